"""Checks shared by the real-agent end-to-end tests (claude_code_e2e.sh,
gemini_cli_e2e.sh, codex_e2e.sh): a run's session, read back with aa-session, against what the
loopback mock saw on the wire (TMP/wire/N.request and N.response) and against the
file the agent's tool wrote."""
import base64
import glob
import json


class Run:
    """TMP holds events.json (aa-session events --json), llm.json (aa-session llm --json)
    and wire/. Problems are collected, not raised, so one run reports all of them."""

    # the kinds the session reader may give plain-HTTP chunks (tls events marked plain)
    PLAIN_KINDS = {"tls.write": "net.send", "tls.read": "net.recv"}

    def __init__(self, tmp):
        self.tmp = tmp
        self.problems = []
        self.events = [json.loads(l) for l in open(f"{tmp}/events.json")]
        self.calls = [json.loads(l) for l in open(f"{tmp}/llm.json")]
        self.writes = [e for e in self.events if e["kind"] == "tls.write"]
        self.reads = [e for e in self.events if e["kind"] == "tls.read"]

    def check(self, ok, what):
        if not ok:
            self.problems.append(what)

    def streams(self, kind):
        """Each connection's bytes of one direction, rebuilt from the events' offsets;
        a gap or an overlap is a problem."""
        by = {}
        for e in self.events:
            if e["kind"] == kind or e["kind"] == self.PLAIN_KINDS.get(kind):
                data = base64.b64decode(e["data_b64"]) if "data_b64" in e else e["data"].encode()
                by.setdefault(e["conn"], []).append((e["offset"], data))
        out = {}
        for conn, parts in by.items():
            parts.sort()
            buf = b""
            for off, data in parts:
                self.check(off == len(buf), f"conn {conn} {kind}: no gap or overlap at offset {len(buf)}")
                buf += data
            out[conn] = buf
        return out

    def check_wire(self):
        """Every request body the mock received and every response it sent is in the
        recorded streams, byte for byte. Redaction (on, as by default) masks
        secret-looking values in place with '*', same length: a request may differ
        from the wire only there."""
        wstreams, rstreams = self.streams("tls.write"), self.streams("tls.read")
        wire_in = sorted(glob.glob(f"{self.tmp}/wire/*.request"))
        wire_out = sorted(glob.glob(f"{self.tmp}/wire/*.response"))
        self.check(len(wire_in) >= 2, f"the mock saw the requests (got {len(wire_in)})")
        for p in wire_in:
            body = open(p, "rb").read()
            self.check(any(holds_masked(s, body) for s in wstreams.values()),
                       f"request body {p} ({len(body)} bytes) is in a tls.write stream (but for redaction masks)")
        for p in wire_out:
            body = open(p, "rb").read()
            self.check(any(body in s for s in rstreams.values()),
                       f"response {p} ({len(body)} bytes) is in a tls.read stream exactly")
        nin = sum(len(open(p, "rb").read()) for p in wire_in)
        nout = sum(len(open(p, "rb").read()) for p in wire_out)
        print(f"  {len(wire_in)} request bodies ({nin} bytes) and {len(wire_out)} responses "
              f"({nout} bytes) found byte for byte")

    def check_tool_effects(self, out, content):
        """The tool's command is an exec, and the file it wrote has its file.close with
        the bytes it holds."""
        execs = [e for e in self.events if e["kind"] == "exec" and out in " ".join(e.get("argv", []))]
        self.check(execs, "the tool's command is an exec")
        closes = [e for e in self.events if e["kind"] == "file.close" and e.get("path") == out]
        self.check(any(e.get("bytes_written") == len(content) for e in closes),
                   f"the file's file.close with its {len(content)} bytes")
        self.check(open(out).read() == content, "the file holds what the tool wrote")

    def finish(self):
        for p in self.problems:
            print("FAIL:", p)
        return 1 if self.problems else 0


def holds_masked(stream, body):
    start = stream.find(body[:64])
    while start >= 0:
        got = stream[start:start + len(body)]
        if len(got) == len(body) and all(g == b or g == 0x2A for g, b in zip(got, body)):
            return True
        start = stream.find(body[:64], start + 1)
    return False
