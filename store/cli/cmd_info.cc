// aa-session info FILE
#include <time.h>

#include <ctime>

#include <cstdio>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"
#include "store/render/event_text.h"

namespace aa {
namespace {

std::string wallTime(int64_t ns) {
  if (ns <= 0) return "unknown";
  time_t secs = ns / 1'000'000'000;
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return buf;
}

std::string joinArgs(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    // Quote what a shell would split, so the line can be read back unambiguously.
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    if (plain) {
      appendPrintable(out, a);
    } else {
      out += '\'';
      std::string esc;
      for (char c : a) esc += c == '\'' ? std::string("'\\''") : std::string(1, c);
      appendPrintable(out, esc);
      out += '\'';
    }
  }
  return out;
}

}  // namespace

int runInfoCommand(int argc, char** argv) {
  int rc = 0;
  auto args = cli::parseCommandArgs(argc, argv, {}, rc);
  if (!args) return rc;
  const std::string& path = args->positional[0];
  auto reader = cli::openOrFail(path, {}, rc);
  if (!reader) return rc;
  const auto& h = reader->header();
  const auto& footer = reader->footer();

  std::string o;
  auto line = [&](const char* label, const std::string& value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%-12s ", label);
    o += buf;
    o += value;
    o += '\n';
  };
  line("file:", path + " (" + formatBytes(reader->fileSize()) + ", " +
                    std::to_string(reader->frames().size()) + " frames)");
  line("session:", h.sessionId + " (format " + std::to_string(h.formatVersion) + ")");
  line("host:", h.host + ", kernel " + h.kernel);
  line("recorder:", h.recorderVersion.empty() ? "unknown" : h.recorderVersion);
  line("target:", h.target.empty() ? "unknown" : h.target);
  line("command:", h.command.empty() ? "(none)" : joinArgs(h.command));
  if (!h.redaction) {
    line("redaction:", "off");
  } else if (h.redactRules.empty()) {
    line("redaction:", "on (HTTP header values; no rule list recorded)");
  } else {
    std::string added;
    for (const auto& r : h.redactRules)
      if (r.rfind("header:", 0) == 0 || r.rfind("key:", 0) == 0) added += " " + r;
    line("redaction:", "on, " + std::to_string(h.redactRules.size()) + " rules:" + added +
                           " (and parts/suffixes; docs/SECURITY.md)");
  }
  line("started:", wallTime(h.startWallNs));
  line("duration:", formatDuration(reader->durationNs()));
  line("events:", std::to_string(reader->eventCount()));
  auto totals = reader->kindTotals();
  for (int k = 0; k < kKindCount; ++k) {
    if (totals[k] == 0) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %-14s %llu\n",
                  std::string(kindName(static_cast<Kind>(k))).c_str(),
                  (unsigned long long)totals[k]);
    o += buf;
  }
  auto procs = reader->processes();
  size_t exited = 0;
  for (const auto& p : procs) exited += p.endNs.has_value();
  line("processes:", std::to_string(procs.size()) + " (" + std::to_string(exited) + " exited)");
  auto files = reader->files();
  uint64_t fr = 0, fw = 0;
  for (const auto& f : files) fr += f.bytesRead, fw += f.bytesWritten;
  line("files:", std::to_string(files.size()) + " paths, " + formatBytes(fr) + " read, " +
                     formatBytes(fw) + " written");
  // TLS connections, and (only when there are) plain ones, whose bytes came from the socket.
  size_t count[2] = {0, 0};
  uint64_t out[2] = {0, 0}, in[2] = {0, 0};
  for (const auto& c : reader->tlsConnections()) {
    ++count[c.plain];
    out[c.plain] += c.bytesOut;
    in[c.plain] += c.bytesIn;
  }
  for (int plain : {0, 1})
    if (!plain || count[plain])
      line(plain ? "plain:" : "tls:", std::to_string(count[plain]) +
                                          (count[plain] == 1 ? " connection, " : " connections, ") +
                                          formatBytes(out[plain]) + " sent, " +
                                          formatBytes(in[plain]) + " received");
  auto lost = reader->lostTotals();
  uint64_t lostSum = 0;
  std::string lostDetail;
  for (const auto& l : lost) {
    lostSum += l.count;
    lostDetail += (lostDetail.empty() ? " (" : ", ") + l.probe + " " + std::to_string(l.count);
  }
  if (!lostDetail.empty()) lostDetail += ")";
  line("lost events:", std::to_string(lostSum) + lostDetail);
  std::string running;
  if (footer && footer->runningAtStop)
    running = ", " + std::to_string(footer->runningAtStop) + " traced process" +
              (footer->runningAtStop == 1 ? "" : "es") + " still running, not recorded further";
  if (footer && footer->cleanStop) {
    line("stop:", "clean (exit code " + std::to_string(footer->exitCode) + ")" + running);
  } else if (footer) {
    line("stop:", "not clean (footer says the recorder stopped early)" + running);
  } else {
    line("stop:", "not clean (no footer: the recorder did not finish the file)");
  }
  line("damage:", reader->damage().ok() ? "none" : reader->damage().message());
  std::string index = indexPath(path);
  if (!reader->indexNote().empty()) index += " (rebuilt from the log now: " + reader->indexNote() + ")";
  else index += reader->indexRebuilt() ? " (rebuilt from the log now)" : " (up to date)";
  line("index:", index);
  // The footer's report is the complete one (TLS hooks attached during the run, the
  // connections nothing could decrypt); the header's is what a killed recorder left.
  const auto& probes = footer && !footer->probes.empty() ? footer->probes : h.probes;
  size_t failed = 0, notDecrypted = 0;
  for (const auto& p : probes) {
    if (p.name == "tls:not-decrypted") ++notDecrypted;
    else failed += !p.ok;
  }
  if (!probes.empty())
    line("probes:", std::to_string(probes.size() - failed - notDecrypted) + " attached, " +
                        std::to_string(failed) + " failed");
  for (const auto& p : probes) {
    if (p.name.rfind("tls:", 0) == 0 && p.name.find('@') != std::string::npos && p.ok &&
        p.name.rfind("SSL_", 0) != 0)
      o += "  tls hooks " + p.name.substr(4) + ": " + p.mode + (p.error.empty() ? "" : " (" + p.error + ")") + "\n";
  }
  for (const auto& p : probes)
    if (!p.ok && p.name != "tls:not-decrypted") o += "  failed " + p.name + ": " + p.error + "\n";
  for (const auto& p : probes)
    if (p.name == "tls:not-decrypted") o += "  not decrypted: " + p.error + "\n";
  if (!cli::writeStdout(o)) return cli::fail("stdout: write failed");
  // As --help says: 1 for a damaged file, after describing what could be read.
  return cli::damageExit(*reader);
}

}  // namespace aa
