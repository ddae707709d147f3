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

inline Ev flatten(schema::Event::Reader e) {
  Ev v;
  v.seq = e.getSeq();
  v.tNs = e.getTNs();
  v.pid = e.getPid();
  v.comm = str(e.getComm());
  v.kind = kindOf(e);
  v.pathTruncated = e.getPathTruncated();
  switch (e.which()) {
    case schema::Event::EXEC: {
      auto x = e.getExec();
      v.path = str(x.getPath());
      for (auto a : x.getArgv()) v.argv.push_back(str(a));
      v.cwd = str(x.getCwd());
      v.ppid = x.getPpid();
      v.filename = str(x.getFilename());
      break;
    }
    case schema::Event::FORK: v.child = e.getFork().getChildPid(); break;
    case schema::Event::EXIT:
      v.exitCode = e.getExit().getExitCode();
      v.signal = e.getExit().getSignal();
      break;
    case schema::Event::FILE_OPEN: {
      auto x = e.getFileOpen();
      v.path = str(x.getPath());
      v.flags = x.getFlags();
      v.mode = x.getMode();
      v.ret = x.getRet();
      break;
    }
    case schema::Event::FILE_CLOSE: {
      auto x = e.getFileClose();
      v.path = str(x.getPath());
      v.fd = x.getFd();
      v.bytesRead = x.getBytesRead();
      v.bytesWritten = x.getBytesWritten();
      v.reads = x.getReads();
      v.writes = x.getWrites();
      v.reason = x.getReason();
      break;
    }
    case schema::Event::FILE_READ:
      v.path = str(e.getFileRead().getPath());
      v.ret = e.getFileRead().getRet();
      break;
    case schema::Event::FILE_WRITE:
      v.path = str(e.getFileWrite().getPath());
      v.ret = e.getFileWrite().getRet();
      break;
    case schema::Event::FILE_RENAME:
      v.path = str(e.getFileRename().getOldPath());
      v.path2 = str(e.getFileRename().getNewPath());
      v.ret = e.getFileRename().getRet();
      break;
    case schema::Event::FILE_UNLINK:
      v.path = str(e.getFileUnlink().getPath());
      v.ret = e.getFileUnlink().getRet();
      break;
    case schema::Event::FILE_MKDIR:
      v.path = str(e.getFileMkdir().getPath());
      v.mode = e.getFileMkdir().getMode();
      v.ret = e.getFileMkdir().getRet();
      break;
    case schema::Event::FILE_RMDIR:
      v.path = str(e.getFileRmdir().getPath());
      v.ret = e.getFileRmdir().getRet();
      break;
    case schema::Event::FILE_TRUNCATE:
      v.path = str(e.getFileTruncate().getPath());
      v.ret = e.getFileTruncate().getRet();
      break;
    case schema::Event::FILE_CHMOD:
      v.path = str(e.getFileChmod().getPath());
      v.mode = e.getFileChmod().getMode();
      v.ret = e.getFileChmod().getRet();
      break;
    case schema::Event::NET_CONNECT:
      v.fd = e.getNetConnect().getFd();
      v.path = str(e.getNetConnect().getAddr());
      v.family = e.getNetConnect().getFamily();
      v.port = e.getNetConnect().getPort();
      v.ret = e.getNetConnect().getRet();
      break;
    case schema::Event::LOST:
      v.count = e.getLost().getCount();
      v.probe = e.getLost().getProbe();
      break;
    case schema::Event::SYMLINK:
      v.path = str(e.getSymlink().getPath());
      v.path2 = str(e.getSymlink().getTarget());
      break;
    case schema::Event::LINK:
      v.path = str(e.getLink().getOldPath());
      v.path2 = str(e.getLink().getNewPath());
      v.flags = e.getLink().getFlags();
      v.ret = e.getLink().getRet();
      break;
    case schema::Event::CHDIR:
      v.path = str(e.getChdir().getPath());
      v.ret = e.getChdir().getRet();
      break;
    default:
      break;
  }
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
