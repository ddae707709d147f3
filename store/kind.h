// The kinds of events, as the JSON Lines contract names them. A Kind is derived from the
// schema's union member (and, for TLS, the direction); it is what the index stores.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "schema/events.capnp.h"

namespace aa {

enum class Kind : uint8_t {
  kExec, kFork, kExit,
  kFileOpen, kFileClose, kFileRead, kFileWrite, kFileRename, kFileUnlink,
  kFileMkdir, kFileRmdir, kFileTruncate, kFileChmod,
  kNetConnect, kTlsWrite, kTlsRead, kLost, kFileSymlink, kChdir,
  kFileLink, kFileChown,
  kCount  // number of kinds, not a kind
};

constexpr int kKindCount = static_cast<int>(Kind::kCount);
using KindMask = uint32_t;  // bit (1 << kind)
constexpr KindMask kAllKinds = (1u << kKindCount) - 1;
constexpr KindMask bit(Kind k) { return 1u << static_cast<int>(k); }

// Defined with the event catalog (store/event_catalog.cc), the one switch over the union.
Kind kindOf(schema::Event::Reader e);
// "exec", "file.open", "tls.write", ... (the JSON Lines `kind` values).
std::string_view kindName(Kind k);
std::optional<Kind> parseKind(std::string_view name);

}  // namespace aa
