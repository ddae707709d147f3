// Events as JSON Lines: the contract `aa-session events --json` prints and scripts and
// tests depend on. One object per event, keys in a fixed order: the common ones, then
// the kind's fields in the order of the event catalog (store/event_catalog.cc), which is
// the order below:
//
//   every event  seq, t_ns (ns since session start), pid, tid, comm, kind
//   exec         path, argv (array), cwd, argv_truncated, uid, gid, ppid
//   fork         child_pid
//   exit         exit_code, signal
//   file.open    path, flags, mode, ret, fd (= ret when ret >= 0, else -1)
//   file.close   path, fd, bytes_read, bytes_written, reads, writes, reason
//   file.read    path, fd, ret          file.write  path, fd, ret
//   file.rename  path (= new_path), old_path, new_path, flags, ret
//   file.unlink  path, ret              file.rmdir  path, ret
//   file.mkdir   path, mode, ret
//   file.truncate path, fd, length, ret
//   file.chmod   path, fd, mode, ret
//   file.chown   path, fd, uid, gid (-1: unchanged), flags, ret
//   file.symlink path, target, ret      chdir       path, ret
//   file.link    path (= new_path), old_path, new_path, flags, ret
//   net.connect  addr, port, fd, family, ret
//   tls.write / tls.read  conn, offset, len, truncated, lib, fd, func, and the payload
//                as `data` when it is valid UTF-8, otherwise as `data_b64` (exactly one)
//   net.send / net.recv  the same without lib: a plain (unencrypted) socket's bytes,
//                func the syscall (write, sendto, readv, ...)
//   lost         count, probe
//   then, only when set (fields added later; absent in older sessions):
//   exec         filename: the file named in the execve, when recorded (for a #!
//                script the script; `path` is then its interpreter)
//   every event  path_truncated: true when a path of the event is incomplete (the
//                kernel's walk was cut): that path is then relative, the directories
//                above it unknown
//
// Byte strings that are not valid UTF-8 (paths, argv, comm, lib, unix socket paths):
// the field still holds a JSON string, with each invalid byte replaced by U+FFFD, and a
// sibling field NAME_b64 (for argv: `argv_b64`, an array parallel to `argv`) carries the
// exact bytes in standard base64. NAME_b64 is present only when the bytes are not UTF-8,
// so a script that needs exact bytes reads NAME_b64 when present, NAME otherwise.
// Numbers are JSON integers (64-bit values are printed in full, never rounded).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schema/events.capnp.h"
#include "store/event_catalog.h"
#include "store/net_addr.h"
#include "store/render/json_string.h"
#include "store/render/utf8.h"

namespace aa {

// Appends one JSON object (no trailing newline); tRelNs is ns since session start
// (SessionReader::relNs(e.getTNs())).
void appendEventJson(std::string& out, schema::Event::Reader e, uint64_t tRelNs);
std::string eventJson(schema::Event::Reader e, uint64_t tRelNs);

// Appends the kind-specific fields (everything after `kind`) of a described event as
// `,"key":value` pairs; the chrome-trace exporter uses them as args.
void appendKindFieldsJson(std::string& out, const EventInfo& info);

// One catalog field as `,"key":value` (plus NAME_b64 where the rules above say).
void appendFieldJson(std::string& out, const Field& f);

}  // namespace aa
