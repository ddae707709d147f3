// Test helpers: run aa-record on a command and read the session back as plain values.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/session_reader.h"

namespace aa::test {

// An event with the fields the tests look at, flattened.
struct Ev {
  uint64_t seq = 0, tNs = 0;
  uint32_t pid = 0;
  Kind kind = Kind::kCount;
  std::string comm, path, path2;   // path: connect addr; path2: rename newPath, symlink target
  std::vector<std::string> argv;
  int64_t ret = 0;
  int32_t fd = -1;
  uint32_t ppid = 0, child = 0, flags = 0, mode = 0;
  int32_t exitCode = 0, signal = 0;
  int64_t uid = 0, gid = 0;        // exec: the process's; file.chown: as passed, -1 unchanged
  uint64_t bytesRead = 0, bytesWritten = 0, count = 0;
  uint32_t reads = 0, writes = 0;
  schema::CloseReason reason = schema::CloseReason::UNKNOWN;
  std::string probe, cwd;
  uint16_t port = 0, family = 0;
  bool pathTruncated = false;
  std::string filename;            // exec: the file named in the execve
};

inline std::string str(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

// Through the event catalog, like every reader: path is the file acted on (for a rename
// or link the old name, for an exec the binary, for a connect the raw address), path2 the
// second name (a rename's or link's new name, a symlink's target).
inline Ev flatten(schema::Event::Reader e) {
  Ev v;
  v.seq = e.getSeq();
  v.tNs = e.getTNs();
  v.pid = e.getPid();
  v.comm = str(e.getComm());
  v.pathTruncated = e.getPathTruncated();
  const EventInfo info = describe(e);
  v.kind = info.kind;
  v.ret = info.ret.value_or(0);
  v.fd = info.fd.value_or(-1);
  for (const Field& f : info.fields()) {
    if (f.alias) continue;
    const std::string bytes(f.bytes);
    switch (f.role) {
      case PathRole::kPath:
      case PathRole::kWorkingDir:
      case PathRole::kOldPath:
      case PathRole::kExecutable: v.path = bytes; break;
      case PathRole::kNewPath:
      case PathRole::kTarget: v.path2 = bytes; break;
      case PathRole::kCwd: v.cwd = bytes; break;
      case PathRole::kScript: v.filename = bytes; break;
      case PathRole::kLibrary:
      case PathRole::kNone: break;
    }
    if (f.type == Field::Type::kAddr) v.path = bytes;
    if (f.type == Field::Type::kBytesList)
      for (auto a : f.list) v.argv.push_back(str(a));
    const std::string_view n = f.name;
    const uint64_t u = f.type == Field::Type::kSigned ? static_cast<uint64_t>(f.i) : f.u;
    if (n == "ppid") v.ppid = static_cast<uint32_t>(u);
    else if (n == "child_pid") v.child = static_cast<uint32_t>(u);
    else if (n == "flags") v.flags = static_cast<uint32_t>(u);
    else if (n == "mode") v.mode = static_cast<uint32_t>(u);
    else if (n == "uid") v.uid = static_cast<int64_t>(u);
    else if (n == "gid") v.gid = static_cast<int64_t>(u);
    else if (n == "exit_code") v.exitCode = static_cast<int32_t>(f.i);
    else if (n == "signal") v.signal = static_cast<int32_t>(f.i);
    else if (n == "bytes_read") v.bytesRead = u;
    else if (n == "bytes_written") v.bytesWritten = u;
    else if (n == "reads") v.reads = static_cast<uint32_t>(u);
    else if (n == "writes") v.writes = static_cast<uint32_t>(u);
    else if (n == "count") v.count = u;
    else if (n == "probe") v.probe = bytes;
    else if (n == "port") v.port = static_cast<uint16_t>(u);
    else if (n == "family") v.family = static_cast<uint16_t>(u);
  }
  if (info.kind == Kind::kFileClose) v.reason = e.getFileClose().getReason();
  return v;
}

inline std::vector<Ev> readEvents(const SessionReader& reader) {
  std::vector<Ev> out;
  Status s = reader.forEach(EventQuery{}, [&](schema::Event::Reader e) {
    out.push_back(flatten(e));
    return true;
  });
  if (!s.ok()) fprintf(stderr, "forEach: %s\n", s.message().c_str());
  return out;
}

#ifdef AA_RECORD_PATH
// Runs aa-record with `args` (its own options, then "--", then the command);
// returns its exit status (waitpid-decoded: 128+sig when killed).
inline int runRecorder(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string exe = AA_RECORD_PATH;
  argv.push_back(exe.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    execv(exe.c_str(), argv.data());
    _exit(99);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
#endif

}  // namespace aa::test
