#include "store/diff/run_effect.h"

#include "store/linux_abi.h"
#include "store/net_addr.h"

namespace aa::diff {

std::optional<RunEffect> runEffectOf(const EventInfo& info) {
  using C = RunEffect::Change;
  RunEffect fx;
  fx.path = info.path(PathRole::kPath);
  const bool succeeded = info.ret && *info.ret == 0;
  auto when = [&](bool changed, C change) -> std::optional<RunEffect> {
    if (!changed) return std::nullopt;
    fx.change = change;
    return fx;
  };
  switch (info.kind) {
    case Kind::kExec: {
      if (const Field* argv = info.find("argv"))
        for (auto a : argv->list) fx.argv.push_back(asView(a));
      if (fx.argv.empty()) fx.argv.push_back(info.path(PathRole::kExecutable));
      const Field* cut = info.find("argv_truncated");
      fx.argvTruncated = cut && cut->b;
      return when(true, C::kExec);
    }
    case Kind::kFileOpen: {
      const uint64_t flags = uint64_t(info.number("flags"));
      fx.created = (flags & linux_abi::kO_CREAT) != 0;
      fx.truncated = (flags & linux_abi::kO_TRUNC) != 0;
      fx.exclusive = (flags & linux_abi::kO_EXCL) != 0;
      return when(info.ret && *info.ret >= 0 && (fx.created || fx.truncated), C::kOpen);
    }
    case Kind::kFileClose:
      fx.bytes = uint64_t(info.number("bytes_written"));
      fx.atClose = true;
      return when(fx.bytes > 0, C::kWrite);
    case Kind::kFileWrite:
      fx.bytes = info.ret && *info.ret > 0 ? uint64_t(*info.ret) : 0;
      return when(fx.bytes > 0, C::kWrite);
    case Kind::kFileRename:
      fx.path = info.path(PathRole::kOldPath);
      fx.newPath = info.path(PathRole::kNewPath);
      return when(succeeded, C::kRename);
    case Kind::kFileLink:
      fx.path = info.path(PathRole::kNewPath);
      return when(succeeded, C::kLink);
    case Kind::kFileUnlink: return when(succeeded, C::kDelete);
    case Kind::kFileMkdir: return when(succeeded, C::kMakeDir);
    case Kind::kFileRmdir: return when(succeeded, C::kRemoveDir);
    case Kind::kFileTruncate: return when(succeeded, C::kTruncate);
    case Kind::kFileChmod: return when(succeeded, C::kChmod);
    case Kind::kFileChown: return when(succeeded, C::kChown);
    case Kind::kFileSymlink: return when(succeeded, C::kSymlink);
    case Kind::kNetConnect: {
      // A non-blocking connect that is under way counts: the peer was chosen.
      if (!info.ret || (*info.ret != 0 && *info.ret != -int64_t(linux_abi::kEINPROGRESS)))
        return std::nullopt;
      const Field* addr = info.find("addr");
      if (!addr) return std::nullopt;
      fx.peer = formatPeer(uint16_t(addr->u), addr->bytes, uint16_t(info.number("port")));
      return when(!fx.peer.empty(), C::kConnect);
    }
    case Kind::kFork: case Kind::kExit: case Kind::kFileRead: case Kind::kTlsWrite:
    case Kind::kTlsRead: case Kind::kNetSend: case Kind::kNetRecv: case Kind::kLost:
    case Kind::kChdir: case Kind::kCount:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string RunEffect::summary() const {
  using C = Change;
  const std::string p(path);
  switch (change) {
    case C::kExec: {
      std::string s = "exec";
      for (auto a : argv) (s += ' ') += a;
      return s;
    }
    case C::kOpen: return (truncated ? "create/truncate " : "create ") + p;
    case C::kWrite: return "write " + p + " (" + std::to_string(bytes) + " bytes)";
    case C::kRename: return "rename " + p + " -> " + std::string(newPath);
    case C::kDelete: return "delete " + p;
    case C::kMakeDir: return "mkdir " + p;
    case C::kRemoveDir: return "rmdir " + p;
    case C::kTruncate: return "truncate " + p;
    case C::kChmod: return "chmod " + p;
    case C::kChown: return "chown " + p;
    case C::kSymlink: return "symlink " + p;
    case C::kLink: return "link " + p;
    case C::kConnect: return "connect " + peer;
  }
  return "";
}

}  // namespace aa::diff
