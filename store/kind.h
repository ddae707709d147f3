// The kinds of events, as the JSON Lines contract names them. A Kind is derived from the
// schema's union member (and, for TLS, the direction); it is what the index stores.
//
// What a kind means beyond its fields is said once, in the table in store/kind.cc: its
// JSON Lines name and its area (what the event is about). Chrome-trace categories and
// the viewer's activity rows both derive from the area, so a new kind is one line there
// (a missing line fails to compile).
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
  kFileLink, kFileChown, kNetSend, kNetRecv,
  kCount  // number of kinds, not a kind
};

constexpr int kKindCount = static_cast<int>(Kind::kCount);
using KindMask = uint32_t;  // bit (1 << kind)
constexpr KindMask kAllKinds = (1u << kKindCount) - 1;
constexpr KindMask bit(Kind k) { return 1u << static_cast<int>(k); }

// The kinds that carry a connection's stream bytes (the `tls` member): from a TLS library
// (tls.write, tls.read) or from a plain socket (net.send, net.recv).
constexpr KindMask kStreamKinds = bit(Kind::kTlsWrite) | bit(Kind::kTlsRead) |
                                  bit(Kind::kNetSend) | bit(Kind::kNetRecv);

// What an event is about, by its kind alone. Opens and closes are reads by kind; the
// event itself can make one a write (areaOf in store/event_catalog.h).
enum class KindArea : uint8_t {
  kExec,       // a program started
  kProcess,    // fork, exit
  kFileRead,   // file contents read (and, by kind alone, opens and closes)
  kFileWrite,  // file contents written or cut
  kFileMeta,   // names, directories, modes, owners, the working directory
  kNet,        // a connection made
  kSent,       // stream plaintext sent: through a TLS library, or on a plain socket
  kReceived,   // stream plaintext received
  kLost,       // records the kernel could not queue
};

// Defined with the event catalog (store/event_catalog.cc), the one switch over the union.
Kind kindOf(schema::Event::Reader e);
// "exec", "file.open", "tls.write", ... (the JSON Lines `kind` values).
std::string_view kindName(Kind k);
std::optional<Kind> parseKind(std::string_view name);
KindArea kindArea(Kind k);
// True for a kind whose events can be file writes though its area says otherwise (an
// open for writing, a close that wrote): a query for writes must include it.
bool kindMayWrite(Kind k);
// The kinds that are something an agent does (`aa-session llm --then N`, the viewer's
// LLM call details): runs a program, changes a file or a name, connects. Reads, opens,
// forks and stream bytes are not. (A close is one only when it wrote.)
KindMask actionKinds();
// The broad group of an area: "process", "file", "net", "stream", "lost" (chrome-trace
// categories).
std::string_view areaCategory(KindArea a);

}  // namespace aa
