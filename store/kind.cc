#include "store/kind.h"

#include <array>

namespace aa {
namespace {

// Indexed by Kind; these strings are the JSON Lines contract.
constexpr std::array<std::string_view, kKindCount> kNames = {
    "exec",          "fork",        "exit",        "file.open",     "file.close",
    "file.read",     "file.write",  "file.rename", "file.unlink",   "file.mkdir",
    "file.rmdir",    "file.truncate", "file.chmod", "net.connect",  "tls.write",
    "tls.read",      "lost",        "file.symlink", "chdir",
    "file.link",
};

}  // namespace

Kind kindOf(schema::Event::Reader e) {
  using W = schema::Event::Which;
  switch (e.which()) {
    case W::EXEC: return Kind::kExec;
    case W::FORK: return Kind::kFork;
    case W::EXIT: return Kind::kExit;
    case W::FILE_OPEN: return Kind::kFileOpen;
    case W::FILE_CLOSE: return Kind::kFileClose;
    case W::FILE_READ: return Kind::kFileRead;
    case W::FILE_WRITE: return Kind::kFileWrite;
    case W::FILE_RENAME: return Kind::kFileRename;
    case W::FILE_UNLINK: return Kind::kFileUnlink;
    case W::FILE_MKDIR: return Kind::kFileMkdir;
    case W::FILE_RMDIR: return Kind::kFileRmdir;
    case W::FILE_TRUNCATE: return Kind::kFileTruncate;
    case W::FILE_CHMOD: return Kind::kFileChmod;
    case W::NET_CONNECT: return Kind::kNetConnect;
    case W::TLS:
      return e.getTls().getDirection() == schema::TlsDirection::WRITE ? Kind::kTlsWrite
                                                                      : Kind::kTlsRead;
    case W::LOST: return Kind::kLost;
    case W::SYMLINK: return Kind::kFileSymlink;
    case W::CHDIR: return Kind::kChdir;
    case W::LINK: return Kind::kFileLink;
  }
  // A union member added by a newer writer: show it as lost data rather than guess.
  return Kind::kLost;
}

std::string_view kindName(Kind k) {
  auto i = static_cast<size_t>(k);
  return i < kNames.size() ? kNames[i] : "unknown";
}

std::optional<Kind> parseKind(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Kind>(i);
  return std::nullopt;
}

}  // namespace aa
