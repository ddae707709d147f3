#include "store/kind.h"

#include <array>

namespace aa {
namespace {

// What else a kind is, as bits.
enum : uint8_t {
  kMayWrite = 1,  // kindMayWrite
  kAction = 2,    // kindIsAction
};

struct KindFacts {
  Kind kind;
  std::string_view name;  // the JSON Lines contract
  KindArea area;
  uint8_t flags = 0;      // kMayWrite, kAction
};

using A = KindArea;

// One line per kind, in Kind order (checked below).
constexpr std::array<KindFacts, kKindCount> kKinds = {{
    {Kind::kExec, "exec", A::kExec, kAction},
    {Kind::kFork, "fork", A::kProcess},
    {Kind::kExit, "exit", A::kProcess},
    {Kind::kFileOpen, "file.open", A::kFileRead, kMayWrite},
    {Kind::kFileClose, "file.close", A::kFileRead, kMayWrite | kAction},
    {Kind::kFileRead, "file.read", A::kFileRead},
    {Kind::kFileWrite, "file.write", A::kFileWrite},
    {Kind::kFileRename, "file.rename", A::kFileMeta, kAction},
    {Kind::kFileUnlink, "file.unlink", A::kFileMeta, kAction},
    {Kind::kFileMkdir, "file.mkdir", A::kFileMeta, kAction},
    {Kind::kFileRmdir, "file.rmdir", A::kFileMeta, kAction},
    {Kind::kFileTruncate, "file.truncate", A::kFileWrite, kAction},
    {Kind::kFileChmod, "file.chmod", A::kFileMeta, kAction},
    {Kind::kNetConnect, "net.connect", A::kNet, kAction},
    {Kind::kTlsWrite, "tls.write", A::kSent},
    {Kind::kTlsRead, "tls.read", A::kReceived},
    {Kind::kLost, "lost", A::kLost},
    {Kind::kFileSymlink, "file.symlink", A::kFileMeta, kAction},
    {Kind::kChdir, "chdir", A::kFileMeta},
    {Kind::kFileLink, "file.link", A::kFileMeta, kAction},
    {Kind::kFileChown, "file.chown", A::kFileMeta, kAction},
    {Kind::kNetSend, "net.send", A::kSent},
    {Kind::kNetRecv, "net.recv", A::kReceived},
}};

// A kind without its line leaves a value-initialised entry (kind kExec, no name) at the
// end: this fails to compile until the line is added, in order.
constexpr bool inKindOrder() {
  for (size_t i = 0; i < kKinds.size(); ++i)
    if (static_cast<size_t>(kKinds[i].kind) != i || kKinds[i].name.empty()) return false;
  return true;
}
static_assert(inKindOrder(), "store/kind.cc: kKinds needs one line per Kind, in Kind order");

const KindFacts* factsOf(Kind k) {
  auto i = static_cast<size_t>(k);
  return i < kKinds.size() ? &kKinds[i] : nullptr;
}

}  // namespace

std::string_view kindName(Kind k) {
  const KindFacts* f = factsOf(k);
  return f ? f->name : "unknown";
}

std::optional<Kind> parseKind(std::string_view name) {
  for (const KindFacts& f : kKinds)
    if (f.name == name) return f.kind;
  return std::nullopt;
}

KindArea kindArea(Kind k) {
  const KindFacts* f = factsOf(k);
  return f ? f->area : KindArea::kLost;
}

bool kindMayWrite(Kind k) {
  const KindFacts* f = factsOf(k);
  return f && (f->flags & kMayWrite);
}

KindMask actionKinds() {
  static constexpr KindMask kActions = [] {
    KindMask m = 0;
    for (const KindFacts& f : kKinds)
      if (f.flags & kAction) m |= bit(f.kind);
    return m;
  }();
  return kActions;
}

std::string_view areaCategory(KindArea a) {
  switch (a) {
    case KindArea::kExec: case KindArea::kProcess: return "process";
    case KindArea::kFileRead: case KindArea::kFileWrite: case KindArea::kFileMeta: return "file";
    case KindArea::kNet: return "net";
    case KindArea::kSent: case KindArea::kReceived: return "stream";
    case KindArea::kLost: return "lost";
  }
  return "lost";
}

}  // namespace aa
