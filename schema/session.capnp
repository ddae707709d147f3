# Session metadata: the header at the start of a session file and the footer a clean
# stop writes at its end. Same evolution rule as events.capnp: ordinals are append-only.

@0xce1c07ae171b934a;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("aa::schema");

struct ProbeStatus {
  name @0 :Text;      # e.g. "sys_enter", "SSL_write_ex@/usr/lib/x86_64-linux-gnu/libssl.so.3"
  mode @1 :Text;      # attach mode obtained: "tp_btf", "raw_tp", "kprobe", "fentry", "uprobe", ...
  ok @2 :Bool;
  error @3 :Text;     # why it failed, when not ok
}

struct SessionHeader {
  formatVersion @0 :UInt32;     # store/format.h kFormatVersion at write time
  sessionId @1 :Text;           # random 128-bit id, hex
  host @2 :Text;
  kernel @3 :Text;              # uname -r
  command @4 :List(Data);       # argv recorded (aa-record -- CMD ...), empty for --pid/--all
  startWallNs @5 :Int64;        # CLOCK_REALTIME ns at start
  startMonoNs @6 :UInt64;       # CLOCK_MONOTONIC ns at start; event tNs are on this clock
  clockOffsetNs @7 :Int64;      # wall = mono + clockOffsetNs
  recorderVersion @8 :Text;
  probes @9 :List(ProbeStatus);
  redaction @10 :Bool;          # secrets in HTTP headers were redacted before writing
  target @11 :Text;             # "command", "pid:1234", "all", "synth"
  options @12 :List(Text);      # recorder options as "key=value"
  redactRules @13 :List(Text);  # what was masked at capture when redaction is on (TLS
                                # payloads and command lines): "header:NAME",
                                # "header-part:TEXT", "not-header:NAME", "key:KEY",
                                # "key-suffix:TEXT" (keys without case, '-', '_', '.')
}

struct LostCount {
  probe @0 :Text;
  count @1 :UInt64;
}

struct SessionFooter {
  eventCount @0 :UInt64;        # events written (next seq)
  endMonoNs @1 :UInt64;
  endWallNs @2 :Int64;
  cleanStop @3 :Bool;
  lost @4 :List(LostCount);     # total lost records per probe
  exitCode @5 :Int32;           # the recorded command's exit status, -1 when none
  batchCount @6 :UInt64;
  probes @7 :List(ProbeStatus);  # the probe report at the stop: the header's, plus hooks
                                 # attached during the recording (e.g. a libssl loaded later)
  runningAtStop @8 :UInt32;     # traced processes still running when the recording
                                # stopped (--duration, a signal, --stop-with-command, an
                                # error): what they did afterwards is not in the session
}
