// The one-line summary of an event, the same wherever a person reads one: the DETAILS
// column of `aa-session events`, the viewer's summary column and tooltips, and the
// agent actions after an LLM call. Built from the event catalog's headline fields:
//
//   exec         PATH ARG1 ARG2 ...   (argv[0] left out; " ..." when argv was cut)
//   fork         child pid N
//   exit         exit code N | killed by signal N (SIGKILL)
//   file.rename  OLD -> NEW           file.link  NEW => OLD     file.symlink  PATH -> TARGET
//   file.truncate PATH to N
//   net.connect  PEER ("1.2.3.4:443", "[::1]:443", a unix socket path)
//   tls.*        conn N: the payload's first line (at most 120 bytes, as recorded)
//   lost         N events lost (PROBE)
//   the others   PATH
//
// A relative path of an event whose kernel walk was cut (path_truncated) is shown as
// ".../tail": it is never mistaken for an absolute one. The result is bytes as recorded
// (not necessarily UTF-8); each output escapes them its own way.
#pragma once

#include <string>

#include "schema/events.capnp.h"
#include "store/event_catalog.h"

namespace aa {

std::string eventSummary(schema::Event::Reader e);
std::string eventSummary(const EventInfo& info, bool pathTruncated);

// " (failed: -2 ENOENT)" for a result < 0 (a non-blocking connect's -EINPROGRESS is not
// a failure), "" otherwise.
std::string failureSuffix(const EventInfo& info);
// "-2 (ENOENT)", "3": a syscall result with its Linux errno name.
std::string resultText(int64_t ret);

}  // namespace aa
