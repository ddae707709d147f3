// What an event changed in the world, read through the event catalog: the one place that
// says which kinds start a program, change a file or reach a peer, and what counts as
// having done so (a successful call; a write that moved bytes). `aa-session diff` builds
// a run's file effects from it (store/diff/session_diff.h) and the cause-and-effect
// attribution its tool-call effects (store/diff/tool_effects.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/event_catalog.h"

namespace aa::diff {

struct RunEffect {
  enum class Change : uint8_t {
    kExec,        // a program ran: argv (the executable when argv is empty)
    kOpen,        // opened with O_CREAT and/or O_TRUNC: created, truncated
    kWrite,       // bytes written: by a write call, or summed at close (atClose)
    kRename,      // path -> newPath
    kDelete,
    kMakeDir,
    kRemoveDir,
    kTruncate,
    kChmod,
    kChown,
    kSymlink,     // path: the link made
    kLink,        // path: the new name
    kConnect,     // peer
  };
  Change change = Change::kExec;
  std::string_view path, newPath;        // point into the event (see describe())
  std::vector<std::string_view> argv;    // exec
  bool argvTruncated = false;            // exec: the recorder cut argv
  bool created = false, truncated = false;   // open: O_CREAT, O_TRUNC
  bool exclusive = false;                // open: O_EXCL (with O_CREAT: a file made new)
  uint64_t bytes = 0;                    // write
  bool atClose = false;                  // write: a file.close summary (--io=summary)
  std::string peer;                      // connect: "1.2.3.4:443", "[::1]:8080", a socket path

  // One line: "exec ls -l", "create/truncate /a", "write /a (12 bytes)", "rename /a -> /b".
  std::string summary() const;
};

// What `info`'s event changed, or nullopt: it changed nothing (a read, a failed call, a
// close that wrote nothing, a process or TLS event).
std::optional<RunEffect> runEffectOf(const EventInfo& info);

}  // namespace aa::diff
