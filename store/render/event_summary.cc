#include "store/render/event_summary.h"

#include "store/linux_abi.h"
#include "store/net_addr.h"

namespace aa {
namespace {

constexpr size_t kMaxArgvBytes = 300;   // exec lines stop adding arguments past this
constexpr size_t kMaxPayloadBytes = 120;

std::string shownPath(std::string_view p, bool pathTruncated) {
  if (pathTruncated && !p.empty() && p[0] != '/') return "\xE2\x80\xA6/" + std::string(p);
  return std::string(p);
}

std::string trimmed(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string resultText(int64_t ret) {
  std::string s = std::to_string(ret);
  if (ret < 0) {
    std::string_view name = linux_abi::errnoName(static_cast<int>(-ret));
    if (!name.empty()) s += " (" + std::string(name) + ")";
  }
  return s;
}

std::string failureSuffix(const EventInfo& info) {
  if (!info.ret || *info.ret >= 0) return {};
  if (info.kind == Kind::kNetConnect && *info.ret == -linux_abi::kEINPROGRESS) return {};
  return " (failed: " + resultText(*info.ret) + ")";
}

std::string eventSummary(schema::Event::Reader e) {
  return eventSummary(describe(e), e.getPathTruncated());
}

std::string eventSummary(const EventInfo& info, bool pathTruncated) {
  auto path = [&](PathRole r) { return shownPath(info.path(r), pathTruncated); };
  switch (info.kind) {
    case Kind::kExec: {
      std::string s = path(PathRole::kExecutable);
      const Field* argv = info.find("argv");
      if (argv) {
        for (size_t i = 1; i < argv->list.size() && s.size() < kMaxArgvBytes; ++i) {
          s += ' ';
          s += asView(argv->list[i]);
        }
      }
      const Field* cut = info.find("argv_truncated");
      if (cut && cut->b) s += " ...";
      return s;
    }
    case Kind::kFork: return "child pid " + std::to_string(info.number("child_pid"));
    case Kind::kExit: {
      const int64_t sig = info.number("signal");
      if (sig == 0) return "exit code " + std::to_string(info.number("exit_code"));
      std::string s = "killed by signal " + std::to_string(sig);
      std::string_view name = linux_abi::signalName(static_cast<int>(sig));
      if (!name.empty()) s += " (" + std::string(name) + ")";
      return s;
    }
    case Kind::kFileRename: return path(PathRole::kOldPath) + " -> " + path(PathRole::kNewPath);
    case Kind::kFileLink: return path(PathRole::kNewPath) + " => " + path(PathRole::kOldPath);
    case Kind::kFileSymlink:
      return path(PathRole::kPath) + " -> " + std::string(info.path(PathRole::kTarget));
    case Kind::kFileTruncate:
      return path(PathRole::kPath) + " to " + std::to_string(info.number("length"));
    case Kind::kNetConnect: {
      const Field* addr = info.find("addr");
      if (!addr) return {};
      const auto family = static_cast<uint16_t>(addr->u);
      std::string peer = formatPeer(family, addr->bytes, static_cast<uint16_t>(info.number("port")));
      return peer.empty() ? "family " + std::to_string(family) : peer;
    }
    case Kind::kTlsWrite:
    case Kind::kTlsRead:
    case Kind::kNetSend:
    case Kind::kNetRecv: {
      const Field* data = info.find("data");
      std::string_view d = data ? data->bytes.substr(0, kMaxPayloadBytes) : std::string_view();
      d = d.substr(0, d.find('\n'));
      return "conn " + std::to_string(info.number("conn")) + ": " + trimmed(d);
    }
    case Kind::kLost: {
      const Field* probe = info.find("probe");
      return std::to_string(info.number("count")) + " events lost (" +
             std::string(probe ? probe->bytes : std::string_view()) + ")";
    }
    case Kind::kFileChown: {
      // chown(1)'s OWNER:GROUP, an unchanged one (-1) left empty
      auto id = [&](const char* name) {
        const int64_t v = info.number(name);
        return v < 0 ? std::string() : std::to_string(v);
      };
      return path(PathRole::kPath) + " to " + id("uid") + ":" + id("gid");
    }
    case Kind::kChdir: return path(PathRole::kWorkingDir);
    case Kind::kFileOpen: case Kind::kFileClose: case Kind::kFileRead: case Kind::kFileWrite:
    case Kind::kFileUnlink: case Kind::kFileMkdir: case Kind::kFileRmdir: case Kind::kFileChmod:
      return path(PathRole::kPath);
    case Kind::kCount: break;
  }
  return {};
}

}  // namespace aa
