// Recorder: one recording from start to footer. Wires the parts main() needs: the
// core probes, TLS capture (when built in), the target (a held command, a pid, or
// everything), the ring-buffer drain through the Decoder into a SessionWriter, loss
// polling, signals, the status line and the summary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recorder/redact.h"

namespace aa {

struct RecorderOptions {
  std::string output = "run.aas";
  std::vector<std::string> command;   // aa-record -- CMD ARGS...
  uint32_t pid = 0;                   // --pid
  bool all = false;                   // --all
  std::string user;                   // --user NAME|UID
  uint64_t ringBytes = 32 << 20;      // --ring-size
  bool ioCalls = false;               // --io=calls
  uint64_t maxTlsBytes = 0;           // --max-tls-bytes (0: unlimited)
  bool redact = true;                 // --no-redact clears it
  bool plainHttp = true;              // --no-plain-http clears it
  RedactRules redactRules;            // built-in + --redact-header / --redact-key
  double durationSec = 0;             // --duration: stop after this long (0: no limit)
  uint32_t flushMs = 100;             // events reach the file at least this often
  bool quiet = false;                 // no status line, no summary
  // --stop-with-command: stop when the command (or the --pid target) exits, rather than
  // when the last traced process does (the default, as strace -f).
  bool stopWithCommand = false;
  // --on-write-error=kill: when the session cannot be written (a full disk), SIGKILL
  // the traced processes; the default (leave) lets them run on, unrecorded, and says so.
  bool killOnWriteError = false;
  bool force = false;                 // --force: replace an existing output file
  std::vector<std::string> tlsOf;     // --probe-report --tls-of PATH: files to check
  std::vector<std::string> recorded;  // options as "key=value", for the header
};

// Records until the last traced process exits (or, with stopWithCommand, the target),
// a signal, or the duration. Returns the process exit
// status for aa-record: the command's status (128+signal when killed), 0 otherwise,
// 1 after a reported error, 127/126 when the command could not be run.
int runRecorder(const RecorderOptions& options);

// Loads and attaches every probe without tracing anything, prints one line per hook
// (mode or failure) on stdout. Returns 0 when every hook attached.
// With options.tlsOf: loads nothing (no root needed) and prints, per file, one line per
// TLS stack found and how it would be hooked (exported symbols / discovered / cached).
// Returns 0 when every file has a stack that would be hooked.
int printProbeReport(const RecorderOptions& options);

}  // namespace aa
