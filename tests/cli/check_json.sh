#!/bin/sh
# Checks aa-session's JSON with Python's parser: a chrome trace of a synthetic session
# (structure Perfetto needs) and JSON Lines (one object per line, the contract's keys).
set -eu
bin=$1 py=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir"
"$bin" synth --events 5000 --seed 9 -o "$dir/s.aas" >/dev/null
"$bin" export --format chrome-trace "$dir/s.aas" -o "$dir/trace.json"
"$bin" events --json "$dir/s.aas" >"$dir/events.jsonl"
"$py" - "$dir/trace.json" "$dir/events.jsonl" <<'PY'
import json, sys
trace = json.load(open(sys.argv[1], encoding="utf-8"))
evs = trace["traceEvents"]
assert isinstance(evs, list) and evs, "no traceEvents"
for e in evs:
    assert e["ph"] in ("M", "X", "i", "b", "e"), e
    assert isinstance(e["pid"], int), e
    if e["ph"] != "M":
        assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
    if e["ph"] == "X":
        assert e["dur"] >= 0, e
assert any(e["ph"] == "M" and e["name"] == "process_name" for e in evs)
n = 0
common = ["seq", "t_ns", "pid", "tid", "comm", "kind"]
with open(sys.argv[2], "rb") as f:
    for line in f:
        obj = json.loads(line.decode("utf-8"))
        keys = [k for k in obj if not k.endswith("_b64")]
        assert keys[:6] == common, keys
        assert obj["seq"] == n, (obj["seq"], n)
        if obj["kind"].startswith("tls."):
            assert ("data" in obj) != ("data_b64" in obj), obj
        n += 1
assert n == 5000, n
print("ok", len(evs), "trace events,", n, "lines")
PY
