// aa-record: command-line front end; all work is in recorder_lib.
#include <malloc.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "recorder/recorder.h"

namespace {

void usage(FILE* out) {
  fprintf(out,
          "usage: aa-record [options] -- COMMAND [ARGS...]\n"
          "       aa-record [options] --pid PID\n"
          "       aa-record [options] --all\n"
          "       aa-record --probe-report [--tls-of PATH]...\n"
          "\n"
          "Records a process tree (exec, fork, exit, file activity, connect, TLS plaintext\n"
          "from OpenSSL and BoringSSL, the bytes of plain-HTTP connections) with eBPF into\n"
          "a session file. Needs root.\n"
          "\n"
          "  -o, --output FILE      session file (default run.aas; mode 0600); an existing\n"
          "                         file is never replaced without --force\n"
          "  --force                replace an existing output (never a symlink, device,\n"
          "                         FIFO or a session another recorder is writing)\n"
          "  --pid PID              record an existing process and its new descendants\n"
          "  --all                  record every process (stop with Ctrl-C)\n"
          "  --user NAME|UID        run COMMAND as this user (default under sudo: SUDO_UID)\n"
          "  --io=summary|calls     file reads/writes summed per open file (default) or\n"
          "                         one event per call\n"
          "  --ring-size BYTES      kernel ring buffer (default 32M; K/M/G suffixes)\n"
          "  --max-tls-bytes N      TLS bytes kept per connection and direction (0: all;\n"
          "                         plain-HTTP connections too)\n"
          "  --no-plain-http        do not capture the bytes of unencrypted TCP connections\n"
          "                         whose first write is HTTP (Ollama, a local proxy)\n"
          "  --no-redact            keep secrets (HTTP headers, URL query keys, JSON fields,\n"
          "                         command-line options; see docs/SECURITY.md)\n"
          "  --redact-header NAME   also mask the value of HTTP header NAME (repeatable)\n"
          "  --redact-key KEY       also mask KEY in URL queries, forms, JSON and command\n"
          "                         lines (repeatable)\n"
          "  --duration SECONDS     stop after this long\n"
          "  --stop-with-command    stop when COMMAND (or --pid) exits; by default the\n"
          "                         recording goes on until every traced descendant has\n"
          "                         exited, as strace -f does\n"
          "  --on-write-error=leave|kill\n"
          "                         when the session cannot be written (disk full): leave\n"
          "                         the traced processes running unrecorded (default) or\n"
          "                         kill them\n"
          "  -q, --quiet            no status line, no summary\n"
          "  --probe-report         print each hook and the attach mode it gets, then exit\n"
          "  --tls-of PATH          with --probe-report: say, without recording or root,\n"
          "                         which TLS stack PATH holds and how it would be hooked\n"
          "  -h, --help\n");
}

bool parseSize(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  std::string str(s);
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(str.c_str(), &end, 10);
  if (errno || end == str.c_str()) return false;
  std::string_view suffix(end);
  uint64_t mult = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") mult = 1ull << 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB") mult = 1ull << 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB") mult = 1ull << 30;
  else if (!suffix.empty()) return false;
  *out = uint64_t(v) * mult;
  return true;
}

int bad(const std::string& message) {
  fprintf(stderr, "aa-record: %s (see aa-record --help)\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Each batch is built in a ~1.3 MiB buffer and freed when written. glibc's dynamic
  // mmap threshold would soon serve such blocks from the heap, where small long-lived
  // allocations made in between keep freed holes resident: RSS crept up by tens of MB
  // an hour (bench/recorder/soak.sh). A fixed threshold keeps them mmapped, returned
  // to the kernel on free.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  aa::RecorderOptions o;
  bool probeReport = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view name, std::string* out) {
      if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
        *out = std::string(a.substr(name.size() + 1));
        return true;
      }
      if (a == name && i + 1 < argc) {
        *out = argv[++i];
        return true;
      }
      return false;
    };
    std::string v;
    if (a == "--") {
      for (++i; i < argc; ++i) o.command.push_back(argv[i]);
      break;
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "--probe-report") {
      probeReport = true;
    } else if (a == "--all") {
      o.all = true;
      o.recorded.push_back("all=true");
    } else if (a == "--no-redact") {
      o.redact = false;
    } else if (a == "--no-plain-http") {
      o.plainHttp = false;
    } else if (a == "--stop-with-command") {
      o.stopWithCommand = true;
      o.recorded.push_back("stop_with_command=true");
    } else if (a == "--force") {
      o.force = true;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (value("-o", &v) || value("--output", &v)) {
      if (v.empty()) return bad("--output: empty path");
      o.output = v;
    } else if (value("--tls-of", &v)) {
      if (v.empty()) return bad("--tls-of: empty path");
      o.tlsOf.push_back(v);
    } else if (value("--pid", &v)) {
      uint64_t pid;
      if (!parseSize(v, &pid) || pid == 0 || pid > 0x7fffffff) return bad("--pid " + v + ": not a pid");
      o.pid = uint32_t(pid);
    } else if (value("--redact-header", &v)) {
      if (v.empty()) return bad("--redact-header: empty name");
      o.redactRules.addHeader(v);
    } else if (value("--redact-key", &v)) {
      if (v.empty()) return bad("--redact-key: empty key");
      o.redactRules.addKey(v);
    } else if (value("--user", &v)) {
      o.user = v;
      o.recorded.push_back("user=" + v);
    } else if (value("--on-write-error", &v)) {
      if (v == "kill") o.killOnWriteError = true;
      else if (v != "leave") return bad("--on-write-error " + v + ": expected leave or kill");
      o.recorded.push_back("on_write_error=" + v);
    } else if (value("--io", &v)) {
      if (v == "calls") o.ioCalls = true;
      else if (v != "summary") return bad("--io " + v + ": expected summary or calls");
    } else if (value("--ring-size", &v)) {
      if (!parseSize(v, &o.ringBytes) || o.ringBytes < 4096 || o.ringBytes > (1ull << 31))
        return bad("--ring-size " + v + ": expected 4K..2G");
    } else if (value("--max-tls-bytes", &v)) {
      if (!parseSize(v, &o.maxTlsBytes)) return bad("--max-tls-bytes " + v + ": not a byte count");
    } else if (value("--duration", &v)) {
      char* end = nullptr;
      o.durationSec = strtod(v.c_str(), &end);
      if (end == v.c_str() || *end || o.durationSec <= 0) return bad("--duration " + v + ": not a positive number of seconds");
      o.recorded.push_back("duration=" + v);
    } else {
      return bad("unknown option " + std::string(a));
    }
  }
  if (!o.tlsOf.empty() && !probeReport) return bad("--tls-of needs --probe-report");
  if (probeReport) return aa::printProbeReport(o);
  return aa::runRecorder(o);
}
