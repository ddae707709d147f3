// aa-session http [--json] [--pid P] [--max-body N] [--no-cache] [--stats] FILE
// aa-session llm  [--json] [--pid P] [--then N] [--no-cache] [--stats] FILE
//
// --json: calls with tool calls also get "tool_effects", each tool call with the events
// that followed from it (by command text, path, process lineage and time;
// store/diff/tool_effects.h).
// --then N: after each call, up to N actions of the calling process tree until its next
// call (execs, written files, renames, deletes, connects): "then" in JSON, indented
// lines in text.
// HTTP exchanges and LLM calls recovered from the session's TLS records (store/traffic).
// Results come from the traffic cache in FILE.aas-index when it matches the log.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"
#include "store/diff/tool_effects.h"
#include "store/traffic/actions.h"
#include "store/traffic/json.h"
#include "store/traffic/traffic.h"
#include "store/traffic/traffic_json.h"

namespace aa {
namespace {

std::string statsLine(const traffic::TrafficStats& s, bool fromCache) {
  return "tls records " + std::to_string(s.records) + ", streams " + std::to_string(s.streams) +
         ", bytes " + std::to_string(s.capturedBytes) + ", gaps " + std::to_string(s.gaps) + " (" +
         std::to_string(s.gapBytes) + " bytes), unparsed bytes " + std::to_string(s.unparsedBytes) +
         ", messages " + std::to_string(s.messages) + " (" + std::to_string(s.incompleteMessages) +
         " incomplete), exchanges " + std::to_string(s.exchanges) + ", llm calls " +
         std::to_string(s.llmCalls) + (fromCache ? " [cached]" : "") + "\n";
}

int runTrafficCommand(int argc, char** argv, bool llm) {
  std::vector<OptionSpec> specs = {
      {"--json", false}, {"--pid", true}, {"--no-cache", false}, {"--stats", false}};
  if (!llm) specs.push_back({"--max-body", true});
  if (llm) specs.push_back({"--then", true});
  int rc = 0;
  auto args = cli::parseCommandArgs(argc, argv, specs, rc);
  if (!args) return rc;
  std::optional<uint32_t> pid;
  if (auto p = args->last("--pid")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(p->c_str(), &end, 10);
    if (p->empty() || *end || v > UINT32_MAX) {
      return cli::usageError(argv[0], "bad --pid '" + *p + "': expected a process id");
    }
    pid = static_cast<uint32_t>(v);
  }
  traffic::RenderOptions render;
  if (auto m = args->last("--max-body")) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(m->c_str(), &end, 10);
    if (m->empty() || *end) {
      return cli::usageError(argv[0], "bad --max-body '" + *m + "': expected a byte count");
    }
    render.maxBodyBytes = v;
  }
  size_t then = 0;
  if (auto m = args->last("--then")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(m->c_str(), &end, 10);
    if (m->empty() || *end || v > 10000) {
      return cli::usageError(argv[0], "bad --then '" + *m + "': expected a count (0..10000)");
    }
    then = v;
  }
  const bool json = args->has("--json");
  const std::string& path = args->positional[0];
  auto reader = cli::openOrFail(path, {}, rc);
  if (!reader) return rc;
  render.originNs = reader->header().startMonoNs;

  traffic::TrafficOptions topt;
  topt.useCache = !args->has("--no-cache");
  auto t = traffic::loadTraffic(*reader, topt);
  if (!t.ok()) return cli::failFile(path, t.status());

  std::string out;
  bool ok = true;
  auto emit = [&](std::string line) {
    out += line;
    out += '\n';
    if (out.size() >= (1 << 20)) {
      ok = ok && cli::writeStdout(out);
      out.clear();
    }
  };
  if (llm) {
    for (size_t i = 0; i < t->calls.size(); ++i) {
      const auto& c = t->calls[i];
      if (pid && c.pid != *pid) continue;
      std::string line = json ? traffic::callJson(c, i, render) : traffic::callLine(c, i, render);
      if (json && !c.toolCalls.empty()) {
        // Cause and effect (store/diff/tool_effects.h): what each tool call led to.
        line.pop_back();
        line += ",\"tool_effects\":" +
                diff::toolEffectsJson(diff::toolCallEffects(*reader, t->calls, i), *reader) + "}";
      }
      if (then > 0) {
        auto acts = traffic::actionsAfterCall(*reader, t->calls, i, then);
        if (json) {
          line.pop_back();   // the closing brace: "then" goes inside the object
          line += ",\"then\":[";
          for (size_t k = 0; k < acts.size(); ++k) {
            if (k) line += ',';
            line += "{\"seq\":" + std::to_string(acts[k].seq) +
                    ",\"t_ns\":" + std::to_string(reader->relNs(acts[k].tNs)) +
                    ",\"pid\":" + std::to_string(acts[k].pid) + ",\"kind\":";
            traffic::appendJsonString(line, acts[k].kind);
            line += ",\"summary\":";
            traffic::appendJsonString(line, acts[k].summary);
            line += '}';
          }
          line += "]}";
        } else {
          for (const auto& a : acts) {
            line += "\n    then pid " + std::to_string(a.pid) + ": ";
            for (char ch : a.summary) line += static_cast<unsigned char>(ch) < 0x20 ? ' ' : ch;
          }
        }
      }
      emit(std::move(line));
    }
  } else {
    for (size_t i = 0; i < t->exchanges.size(); ++i) {
      const auto& x = t->exchanges[i];
      if (pid && x.pid != *pid) continue;
      emit(json ? traffic::exchangeJson(x, i, render) : traffic::exchangeLine(x, i, render));
    }
  }
  if (ok && !out.empty()) ok = cli::writeStdout(out);
  if (!ok) return cli::fail("stdout: write failed");
  if (args->has("--stats")) {
    std::string s = statsLine(t->stats, t->fromCache);
    std::fputs(s.c_str(), stderr);
  }
  return cli::damageExit(*reader);
}

}  // namespace

int runHttpCommand(int argc, char** argv) { return runTrafficCommand(argc, argv, false); }
int runLlmCommand(int argc, char** argv) { return runTrafficCommand(argc, argv, true); }

}  // namespace aa
