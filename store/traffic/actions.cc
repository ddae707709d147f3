#include "store/traffic/actions.h"

#include <map>
#include <set>

#include "store/kind.h"
#include "store/net_addr.h"

namespace aa::traffic {

namespace {

std::string bytesOf(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

std::string failed(int64_t ret) {
  return ret < 0 ? " (failed: " + std::to_string(ret) + ")" : std::string();
}

// One line for an event worth showing, or "" for one that is not (reads, closes of
// files that were not written).
std::string summarize(schema::Event::Reader e) {
  using W = schema::Event::Which;
  switch (e.which()) {
    case W::EXEC: {
      std::string s = "exec " + bytesOf(e.getExec().getPath());
      auto argv = e.getExec().getArgv();
      for (size_t i = 1; i < argv.size() && s.size() < 300; ++i) s += " " + bytesOf(argv[i]);
      return s;
    }
    case W::FILE_CLOSE: {
      auto c = e.getFileClose();
      if (c.getBytesWritten() == 0) return {};
      return "write " + bytesOf(c.getPath()) + " (" + std::to_string(c.getBytesWritten()) + " bytes)";
    }
    case W::FILE_RENAME:
      return "rename " + bytesOf(e.getFileRename().getOldPath()) + " -> " +
             bytesOf(e.getFileRename().getNewPath()) + failed(e.getFileRename().getRet());
    case W::FILE_UNLINK:
      return "unlink " + bytesOf(e.getFileUnlink().getPath()) + failed(e.getFileUnlink().getRet());
    case W::FILE_MKDIR:
      return "mkdir " + bytesOf(e.getFileMkdir().getPath()) + failed(e.getFileMkdir().getRet());
    case W::FILE_RMDIR:
      return "rmdir " + bytesOf(e.getFileRmdir().getPath()) + failed(e.getFileRmdir().getRet());
    case W::FILE_TRUNCATE:
      return "truncate " + bytesOf(e.getFileTruncate().getPath()) + " to " +
             std::to_string(e.getFileTruncate().getLength()) + failed(e.getFileTruncate().getRet());
    case W::FILE_CHMOD:
      return "chmod " + bytesOf(e.getFileChmod().getPath()) + failed(e.getFileChmod().getRet());
    case W::SYMLINK:
      return "symlink " + bytesOf(e.getSymlink().getPath()) + " -> " +
             bytesOf(e.getSymlink().getTarget()) + failed(e.getSymlink().getRet());
    case W::LINK:
      return "link " + bytesOf(e.getLink().getNewPath()) + " => " +
             bytesOf(e.getLink().getOldPath()) + failed(e.getLink().getRet());
    case W::NET_CONNECT: {
      auto c = e.getNetConnect();
      return "connect " + formatPeer(c.getFamily(), bytesOf(c.getAddr()), c.getPort()) +
             (c.getRet() < 0 && c.getRet() != -115 ? failed(c.getRet()) : std::string());
    }
    default:
      return {};
  }
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
  q.kinds = bit(Kind::kExec) | bit(Kind::kFileClose) | bit(Kind::kFileRename) |
            bit(Kind::kFileUnlink) | bit(Kind::kFileMkdir) | bit(Kind::kFileRmdir) |
            bit(Kind::kFileTruncate) | bit(Kind::kFileChmod) | bit(Kind::kFileSymlink) |
            bit(Kind::kFileLink) | bit(Kind::kNetConnect);
  // A failed read ends the list early; what was found is still right.
  (void)reader.forEach(q, [&](schema::Event::Reader e) {
    if (!tree.count(e.getPid())) return true;
    std::string s = summarize(e);
    if (s.empty()) return true;
    out.push_back({e.getSeq(), e.getTNs(), e.getPid(), std::string(kindName(kindOf(e))), std::move(s)});
    return out.size() < max;
  });
  return out;
}

}  // namespace aa::traffic
