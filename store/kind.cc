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
    "file.link",     "file.chown",
};

}  // namespace

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
