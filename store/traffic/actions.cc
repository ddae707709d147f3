#include "store/traffic/actions.h"

#include <map>
#include <set>

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/render/event_summary.h"

namespace aa::traffic {

namespace {

// "VERB SUMMARY (failed: ...)" for an action, or "" for an event that is not one (a
// close of a file that was not written).
std::string actionLine(schema::Event::Reader e) {
  const EventInfo info = describe(e);
  if (!(actionKinds() & bit(info.kind))) return {};
  std::string_view verb = kindName(info.kind);
  if (verb.starts_with("file.")) verb.remove_prefix(5);
  if (verb.starts_with("net.")) verb.remove_prefix(4);
  std::string line;
  if (info.kind == Kind::kFileClose) {
    // A close is an action when the file was written: the write summed at close.
    const Field* written = info.find("bytes_written");
    if (!written || written->u == 0) return {};
    line = "write " + eventSummary(info, e.getPathTruncated()) + " (" +
           std::to_string(written->u) + " bytes)";
  } else {
    line = std::string(verb) + " " + eventSummary(info, e.getPathTruncated());
  }
  return line + failureSuffix(info);
}

}  // namespace

std::vector<AgentAction> actionsAfterCall(const SessionReader& reader,
                                          const std::vector<LlmCall>& calls, size_t index,
                                          size_t max) {
  std::vector<AgentAction> out;
  if (index >= calls.size() || max == 0) return out;
  const LlmCall& call = calls[index];

  // The calling process and everything it started (by parent links).
  std::map<uint32_t, std::vector<uint32_t>> children;
  for (const auto& p : reader.processes()) children[p.ppid].push_back(p.pid);
  std::set<uint32_t> tree{call.pid};
  std::vector<uint32_t> todo{call.pid};
  while (!todo.empty()) {
    uint32_t p = todo.back();
    todo.pop_back();
    for (uint32_t c : children[p]) {
      if (tree.insert(c).second) todo.push_back(c);
    }
  }

  EventQuery q;
  q.fromNs = reader.relNs(call.tEndNs);
  for (size_t i = index + 1; i < calls.size(); ++i) {
    if (tree.count(calls[i].pid) && calls[i].tStartNs >= call.tEndNs) {
      q.toNs = reader.relNs(calls[i].tStartNs);
      break;
    }
  }
  q.kinds = actionKinds();
  // A failed read ends the list early; what was found is still right.
  (void)reader.forEach(q, [&](schema::Event::Reader e) {
    if (!tree.count(e.getPid())) return true;
    std::string s = actionLine(e);
    if (s.empty()) return true;
    out.push_back({e.getSeq(), e.getTNs(), e.getPid(), std::string(kindName(kindOf(e))), std::move(s)});
    return out.size() < max;
  });
  return out;
}

}  // namespace aa::traffic
