// The event catalog: what every kind of event holds, said once. It maps a recorded
// schema::Event to its Kind and to a flat, ordered list of named fields (the JSON Lines
// keys, in the order the contract prints them), and from that list to the paths the
// event names (each with its role), its fd, its result and the bytes it moved.
//
// This is the one switch over the schema's union. Every reader (the indexer, the JSON
// Lines and text renderers, the agent-action summary, the viewer's summary, details,
// search and activity rows, the tests' flattener) reads events through it, so a new
// kind is the decoder plus one case here (tests/store/event_catalog_test.cc fails when
// a union member has none).
//
// Describing an event allocates nothing: fields point into the event's message, which
// must outlive the EventInfo.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "schema/events.capnp.h"
#include "store/kind.h"

namespace aa {

// What a byte-string field is to the event. Only kTarget and the roles after it are
// not files the event acts on (a symlink's contents are kept as passed; the executable,
// script, cwd and TLS library are context).
enum class PathRole : uint8_t {
  kNone,       // not a path
  kPath,       // the file the event acts on
  kOldPath,    // rename/link: the existing name
  kNewPath,    // rename/link: the new name
  kTarget,     // symlink: the contents of the link, as passed (need not exist)
  kExecutable, // exec: the binary that ran
  kScript,     // exec: the file named in the execve (a #! script)
  kCwd,        // exec: working directory
  kLibrary,    // tls: the library or executable whose SSL_* was hooked
  kWorkingDir, // chdir: the new working directory (a place, not a file acted on)
};

// True for the roles that name a file the event touches (the index's file table).
constexpr bool touchesFile(PathRole r) {
  return r == PathRole::kPath || r == PathRole::kOldPath || r == PathRole::kNewPath;
}

// The kinds that name no file (no field with a touchesFile role): the indexer skips
// describing them. tests/store/event_catalog_test.cc holds the catalog to it.
constexpr KindMask kKindsWithoutFiles = bit(Kind::kExec) | bit(Kind::kFork) | bit(Kind::kExit) |
                                        bit(Kind::kNetConnect) | bit(Kind::kTlsWrite) |
                                        bit(Kind::kTlsRead) | bit(Kind::kNetSend) |
                                        bit(Kind::kNetRecv) | bit(Kind::kLost);

// How a number is meant, so every renderer names it the same way (Linux ABI values, as
// recorded, whatever the host: store/linux_abi.h).
enum class NumberMeaning : uint8_t {
  kPlain,
  kOpenFlags,  // open(2) O_* bits
  kMode,       // permission bits, shown in octal
  kFlags,      // other flag words (renameat2, linkat), shown in hex
  kResult,     // a syscall result: value, or -errno
  kSignal,     // a signal number
  kFamily,     // an address family
};

struct Field {
  enum class Type : uint8_t {
    kUnsigned,   // u
    kSigned,     // i
    kBool,       // b
    kBytes,      // bytes: Data that need not be UTF-8 (JSON: NAME and NAME_b64 when not UTF-8)
    kText,       // bytes: text the schema or the catalog gives (always UTF-8)
    kBytesList,  // list: argv (JSON: an array, and NAME_b64 when one is not UTF-8)
    kAddr,       // bytes: raw socket address, u: its (Linux) family
    kPayload,    // bytes: TLS plaintext (JSON: `data` when UTF-8, otherwise only `data_b64`)
  };
  std::string_view name;   // the JSON Lines key, e.g. "bytes_read"
  Type type = Type::kUnsigned;
  PathRole role = PathRole::kNone;
  NumberMeaning meaning = NumberMeaning::kPlain;
  // An alias repeats another field for the JSON contract (`path` = `new_path` of a
  // rename): renderers that show each value once skip it.
  bool alias = false;
  // Part of the event's one-line summary (store/render/event_summary.h), so a renderer
  // that prints the summary and then the other fields does not repeat it.
  bool headline = false;
  uint64_t u = 0;
  int64_t i = 0;
  bool b = false;
  std::string_view bytes;
  capnp::List<capnp::Data>::Reader list;
};

class EventInfo {
 public:
  static constexpr size_t kMaxFields = 12;

  Kind kind = Kind::kLost;
  // False for a union member this build does not know (written by a newer recorder):
  // kind is then kLost and there are no fields.
  bool known = false;
  // Set when the event has them: the fd it used or opened (-1 when an open failed),
  // its syscall result (value or -errno), the payload or file bytes it moved.
  std::optional<int32_t> fd;
  std::optional<int64_t> ret;
  std::optional<uint64_t> bytes;

  // The kind's fields in contract order (the common fields seq, t_ns, pid, tid, comm
  // and the trailing path_truncated are not among them).
  std::span<const Field> fields() const { return {fields_.data(), count_}; }
  // The field called `name`, or nullptr.
  const Field* find(std::string_view name) const;
  // The number in field `name` (its i, or its u as the same 64 bits), 0 when absent.
  int64_t number(std::string_view name) const;
  // The first path in `role`, or "" (a path of an event is never empty when recorded).
  std::string_view path(PathRole role) const;
  // The event's main path: kPath, else the new name, the executable, the working
  // directory; "" if none.
  std::string_view mainPath() const;

  // Used by describe(): appends one field (a bug past kMaxFields: checked).
  Field& add(std::string_view name, Field::Type type);

 private:
  std::array<Field, kMaxFields> fields_{};
  size_t count_ = 0;
};

// The one switch over schema::Event's union.
EventInfo describe(schema::Event::Reader e);

// What the event is about: kindArea(kindOf(e)), except that an open for writing (write
// access, O_CREAT or O_TRUNC) and a close that wrote bytes are file writes (the kinds
// kindMayWrite names).
KindArea areaOf(schema::Event::Reader e);

// "explicit", "exit", "exec", "replaced", "unknown" (file.close `reason`).
std::string_view closeReasonName(schema::CloseReason r);

inline std::string_view asView(capnp::Data::Reader d) {
  return {reinterpret_cast<const char*>(d.begin()), d.size()};
}
inline std::string_view asView(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

}  // namespace aa
