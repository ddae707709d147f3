#include "store/diff/tool_effects.h"

#include <algorithm>
#include <map>
#include <set>

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/diff/run_effect.h"
#include "store/traffic/json.h"

namespace aa::diff {
namespace {

std::string baseName(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

void collectStrings(const traffic::Json& j, std::vector<std::string>& out) {
  if (j.isString()) {
    if (j.str().size() >= 2) out.push_back(j.str());
  } else if (j.isArray()) {
    for (const auto& v : j.items()) collectStrings(v, out);
  } else if (j.isObject()) {
    for (const auto& [k, v] : j.members()) collectStrings(v, out);
  }
}

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// `word` occurs in `s` with no name character right before or after it.
bool containsWord(const std::string& s, const std::string& word) {
  if (word.empty()) return false;
  for (size_t at = s.find(word); at != std::string::npos; at = s.find(word, at + 1)) {
    bool startOk = at == 0 || !isNameChar(s[at - 1]);
    size_t e = at + word.size();
    bool endOk = e == s.size() || !isNameChar(s[e]) || (s[e] == '.' && (e + 1 == s.size() || s[e + 1] == ' '));
    if (startOk && endOk) return true;
  }
  return false;
}

int execScore(const std::vector<std::string>& strings, const std::vector<std::string>& argv) {
  if (argv.empty()) return 0;
  std::string base = baseName(argv[0]);
  std::string joined = base;
  for (size_t i = 1; i < argv.size(); ++i) joined += " " + argv[i];
  int best = 0;
  for (const auto& s : strings) {
    for (size_t i = 1; i < argv.size(); ++i)
      if (argv[i].size() >= 3 && argv[i] == s) best = std::max(best, 3);
    if (s.find(joined) != std::string::npos) best = std::max(best, 3);
    if (s.find(' ') != std::string::npos && joined.find(s) != std::string::npos) best = std::max(best, 2);
    if (base.size() >= 2 && containsWord(s, base)) best = std::max(best, 1);
  }
  return best;
}

int pathScore(const std::vector<std::string>& strings, const std::string& path) {
  if (path.empty()) return 0;
  std::string base = baseName(path);
  int best = 0;
  for (const auto& s : strings) {
    if (s.find(path) != std::string::npos) best = std::max(best, 2);
    else if (base.size() >= 3 && containsWord(s, base)) best = std::max(best, 1);
  }
  return best;
}

}  // namespace

std::vector<ToolCallEffects> toolCallEffects(const SessionReader& reader,
                                             const std::vector<traffic::LlmCall>& calls,
                                             size_t index, size_t max) {
  std::vector<ToolCallEffects> out;
  if (index >= calls.size() || calls[index].toolCalls.empty()) return out;
  const traffic::LlmCall& c = calls[index];
  for (size_t k = 0; k < c.toolCalls.size(); ++k)
    out.push_back({k, c.toolCalls[k].id, c.toolCalls[k].name, {}});
  std::vector<std::vector<std::string>> strings(c.toolCalls.size());
  for (size_t k = 0; k < c.toolCalls.size(); ++k) {
    if (auto j = traffic::parseJson(c.toolCalls[k].arguments); j.ok()) collectStrings(*j, strings[k]);
    else if (!c.toolCalls[k].arguments.empty()) strings[k].push_back(c.toolCalls[k].arguments);
  }

  // The agent: the caller's tree, or its parent's when the caller is a one-shot client.
  std::map<uint32_t, ProcessRow> procs;
  std::multimap<uint32_t, uint32_t> children;
  for (auto& p : reader.processes()) {
    children.emplace(p.ppid, p.pid);
    procs[p.pid] = std::move(p);
  }
  const uint64_t callEndRel = reader.relNs(c.tEndNs);
  uint32_t root = c.pid;
  if (auto it = procs.find(c.pid); it != procs.end() && it->second.endNs &&
                                   *it->second.endNs < callEndRel + 1'000'000'000ull &&
                                   procs.count(it->second.ppid))
    root = it->second.ppid;
  std::set<uint32_t> tree;
  std::vector<uint32_t> todo = {root};
  while (!todo.empty()) {
    uint32_t p = todo.back();
    todo.pop_back();
    if (!tree.insert(p).second) continue;
    auto [b, e] = children.equal_range(p);
    for (auto i = b; i != e; ++i) todo.push_back(i->second);
  }
  uint64_t windowEnd = UINT64_MAX;   // monotonic
  for (size_t j = 0; j < calls.size(); ++j)
    if (j != index && calls[j].tStartNs > c.tEndNs && tree.count(calls[j].pid))
      windowEnd = std::min(windowEnd, calls[j].tStartNs);

  EventQuery q;
  q.fromNs = callEndRel;
  if (windowEnd != UINT64_MAX) q.toNs = reader.relNs(windowEnd);
  q.pids.assign(tree.begin(), tree.end());
  std::map<uint32_t, size_t> pidTool;   // processes whose exec (or an ancestor's) was attributed
  std::optional<size_t> lastTool;
  const bool single = c.toolCalls.size() == 1;

  Status st = reader.forEach(q, [&](schema::Event::Reader e) {
    if (e.getTNs() < c.tEndNs || e.getTNs() >= windowEnd) return true;
    const uint32_t pid = e.getPid();
    const EventInfo info = describe(e);
    if (info.kind == Kind::kFork) {
      if (auto it = pidTool.find(pid); it != pidTool.end())
        pidTool[uint32_t(info.number("child_pid"))] = it->second;
      return true;
    }
    auto effect = runEffectOf(info);
    if (!effect) return true;
    ToolEffect fx;
    fx.seq = e.getSeq();
    fx.tNs = e.getTNs();
    fx.pid = pid;
    fx.kind = std::string(kindName(info.kind));
    fx.summary = effect->summary();
    std::vector<std::string> argv;
    std::string path, path2;
    if (effect->change == RunEffect::Change::kExec) {
      argv.assign(effect->argv.begin(), effect->argv.end());
    } else if (effect->change == RunEffect::Change::kConnect) {
      path = effect->peer;
    } else {
      path = effect->path;
      path2 = effect->newPath;
    }
    std::optional<size_t> tool;
    int best = 0;
    for (size_t k = 0; k < strings.size(); ++k) {
      int s = !argv.empty() ? execScore(strings[k], argv)
                            : std::max(pathScore(strings[k], path), pathScore(strings[k], path2));
      if (s > best) {
        best = s;
        tool = k;
      }
    }
    auto inherited = pidTool.find(pid);
    if (!argv.empty() && tool) {
      fx.by = "command";
      pidTool[pid] = *tool;
    } else if (inherited != pidTool.end()) {
      tool = inherited->second;
      fx.by = "lineage";
    } else if (tool) {
      fx.by = "path";
    } else if (lastTool) {
      tool = lastTool;
      fx.by = "time";
    } else if (single) {
      tool = 0;
      fx.by = "time";
    }
    if (!tool) return true;
    lastTool = tool;
    if (out[*tool].effects.size() < max) out[*tool].effects.push_back(std::move(fx));
    return true;
  });
  (void)st;   // a damaged tail: what was read is what there is
  return out;
}

std::string toolEffectsJson(const std::vector<ToolCallEffects>& effects,
                            const SessionReader& reader) {
  using traffic::appendJsonString;
  std::string o = "[";
  for (size_t i = 0; i < effects.size(); ++i) {
    const auto& t = effects[i];
    if (i) o += ',';
    o += "{\"tool_call\":" + std::to_string(t.toolCall) + ",\"id\":";
    appendJsonString(o, t.id);
    o += ",\"name\":";
    appendJsonString(o, t.name);
    o += ",\"seqs\":[";
    for (size_t k = 0; k < t.effects.size(); ++k) o += (k ? "," : "") + std::to_string(t.effects[k].seq);
    o += "],\"effects\":[";
    for (size_t k = 0; k < t.effects.size(); ++k) {
      const auto& f = t.effects[k];
      if (k) o += ',';
      o += "{\"seq\":" + std::to_string(f.seq) + ",\"t_ns\":" + std::to_string(reader.relNs(f.tNs)) +
           ",\"pid\":" + std::to_string(f.pid) + ",\"kind\":";
      appendJsonString(o, f.kind);
      o += ",\"summary\":";
      appendJsonString(o, f.summary);
      o += ",\"by\":";
      appendJsonString(o, f.by);
      o += '}';
    }
    o += "]}";
  }
  o += ']';
  return o;
}

}  // namespace aa::diff
