#include "store/event_catalog.h"

#include "store/check.h"
#include "store/linux_abi.h"

namespace aa {

Field& EventInfo::add(std::string_view name, Field::Type type) {
  AA_CHECK(count_ < kMaxFields);
  Field& f = fields_[count_++];
  f = Field{};
  f.name = name;
  f.type = type;
  return f;
}

const Field* EventInfo::find(std::string_view name) const {
  for (const Field& f : fields())
    if (f.name == name) return &f;
  return nullptr;
}

int64_t EventInfo::number(std::string_view name) const {
  const Field* f = find(name);
  return f ? (f->type == Field::Type::kSigned ? f->i : static_cast<int64_t>(f->u)) : 0;
}

std::string_view EventInfo::path(PathRole role) const {
  for (const Field& f : fields())
    if (f.role == role && !f.alias) return f.bytes;
  return {};
}

std::string_view EventInfo::mainPath() const {
  for (PathRole r : {PathRole::kPath, PathRole::kNewPath, PathRole::kExecutable,
                     PathRole::kWorkingDir}) {
    std::string_view p = path(r);
    if (!p.empty()) return p;
  }
  return {};
}

std::string_view closeReasonName(schema::CloseReason r) {
  switch (r) {
    case schema::CloseReason::EXPLICIT: return "explicit";
    case schema::CloseReason::EXIT: return "exit";
    case schema::CloseReason::EXEC: return "exec";
    case schema::CloseReason::REPLACED: return "replaced";
    case schema::CloseReason::UNKNOWN: return "unknown";
  }
  return "unknown";
}

namespace {

// Small builders that keep the cases below one line a field.
struct Builder {
  EventInfo& info;

  Field& u(std::string_view name, uint64_t v, NumberMeaning m = NumberMeaning::kPlain) {
    Field& f = info.add(name, Field::Type::kUnsigned);
    f.u = v;
    f.meaning = m;
    return f;
  }
  Field& i(std::string_view name, int64_t v, NumberMeaning m = NumberMeaning::kPlain) {
    Field& f = info.add(name, Field::Type::kSigned);
    f.i = v;
    f.meaning = m;
    return f;
  }
  Field& flag(std::string_view name, bool v) {
    Field& f = info.add(name, Field::Type::kBool);
    f.b = v;
    return f;
  }
  Field& bytes(std::string_view name, capnp::Data::Reader v, PathRole role = PathRole::kNone) {
    Field& f = info.add(name, Field::Type::kBytes);
    f.bytes = asView(v);
    f.role = role;
    f.headline = touchesFile(role) || role == PathRole::kTarget || role == PathRole::kExecutable ||
                 role == PathRole::kWorkingDir;
    return f;
  }
  Field& text(std::string_view name, std::string_view v) {
    Field& f = info.add(name, Field::Type::kText);
    f.bytes = v;
    return f;
  }
  // The syscall result: a field and EventInfo::ret.
  void ret(int64_t v) {
    i("ret", v, NumberMeaning::kResult);
    info.ret = v;
  }
  void fd(std::string_view name, int32_t v) {
    i(name, v);
    info.fd = v;
  }
  // rename and link: `path` (= new_path) first, then both names.
  void twoNames(capnp::Data::Reader oldPath, capnp::Data::Reader newPath) {
    bytes("path", newPath, PathRole::kNewPath).alias = true;
    bytes("old_path", oldPath, PathRole::kOldPath);
    bytes("new_path", newPath, PathRole::kNewPath);
  }
};

}  // namespace

EventInfo describe(schema::Event::Reader e) {
  using W = schema::Event::Which;
  using M = NumberMeaning;
  EventInfo info;
  Builder b{info};
  info.kind = kindOf(e);
  info.known = true;
  switch (e.which()) {
    case W::EXEC: {
      auto x = e.getExec();
      b.bytes("path", x.getPath(), PathRole::kExecutable);
      Field& argv = info.add("argv", Field::Type::kBytesList);
      argv.list = x.getArgv();
      argv.headline = true;
      b.bytes("cwd", x.getCwd(), PathRole::kCwd);
      b.flag("argv_truncated", x.getArgvTruncated());
      b.u("uid", x.getUid());
      b.u("gid", x.getGid());
      b.u("ppid", x.getPpid());
      // Added after the first release: present only when recorded, so older sessions
      // (and their golden files) read as before.
      if (x.hasFilename() && x.getFilename().size() > 0)
        b.bytes("filename", x.getFilename(), PathRole::kScript);
      return info;
    }
    case W::FORK:
      b.u("child_pid", e.getFork().getChildPid()).headline = true;
      return info;
    case W::EXIT:
      b.i("exit_code", e.getExit().getExitCode()).headline = true;
      b.i("signal", e.getExit().getSignal(), M::kSignal).headline = true;
      return info;
    case W::FILE_OPEN: {
      auto x = e.getFileOpen();
      b.bytes("path", x.getPath(), PathRole::kPath);
      b.u("flags", x.getFlags(), M::kOpenFlags);
      b.u("mode", x.getMode(), M::kMode);
      b.ret(x.getRet());
      b.fd("fd", x.getRet() >= 0 ? static_cast<int32_t>(x.getRet()) : -1);
      return info;
    }
    case W::FILE_CLOSE: {
      auto x = e.getFileClose();
      b.bytes("path", x.getPath(), PathRole::kPath);
      b.fd("fd", x.getFd());
      b.u("bytes_read", x.getBytesRead());
      b.u("bytes_written", x.getBytesWritten());
      b.u("reads", x.getReads());
      b.u("writes", x.getWrites());
      b.text("reason", closeReasonName(x.getReason()));
      info.bytes = x.getBytesRead() + x.getBytesWritten();
      return info;
    }
    case W::FILE_READ: {
      auto x = e.getFileRead();
      b.bytes("path", x.getPath(), PathRole::kPath);
      b.fd("fd", x.getFd());
      b.ret(x.getRet());
      info.bytes = x.getRet() > 0 ? static_cast<uint64_t>(x.getRet()) : 0;
      return info;
    }
    case W::FILE_WRITE: {
      auto x = e.getFileWrite();
      b.bytes("path", x.getPath(), PathRole::kPath);
      b.fd("fd", x.getFd());
      b.ret(x.getRet());
      info.bytes = x.getRet() > 0 ? static_cast<uint64_t>(x.getRet()) : 0;
      return info;
    }
    case W::FILE_RENAME: {
      auto x = e.getFileRename();
      b.twoNames(x.getOldPath(), x.getNewPath());
      b.u("flags", x.getFlags(), M::kFlags);
      b.ret(x.getRet());
      return info;
    }
    case W::FILE_UNLINK:
      b.bytes("path", e.getFileUnlink().getPath(), PathRole::kPath);
      b.ret(e.getFileUnlink().getRet());
      return info;
    case W::FILE_MKDIR:
      b.bytes("path", e.getFileMkdir().getPath(), PathRole::kPath);
      b.u("mode", e.getFileMkdir().getMode(), M::kMode);
      b.ret(e.getFileMkdir().getRet());
      return info;
    case W::FILE_RMDIR:
      b.bytes("path", e.getFileRmdir().getPath(), PathRole::kPath);
      b.ret(e.getFileRmdir().getRet());
      return info;
    case W::FILE_TRUNCATE: {
      auto x = e.getFileTruncate();
      b.bytes("path", x.getPath(), PathRole::kPath);
      b.fd("fd", x.getFd());
      b.i("length", x.getLength()).headline = true;
      b.ret(x.getRet());
      return info;
    }
    case W::FILE_CHMOD: {
      auto x = e.getFileChmod();
      b.bytes("path", x.getPath(), PathRole::kPath);
      b.fd("fd", x.getFd());
      b.u("mode", x.getMode(), M::kMode);
      b.ret(x.getRet());
      return info;
    }
    case W::NET_CONNECT: {
      auto x = e.getNetConnect();
      Field& addr = info.add("addr", Field::Type::kAddr);
      addr.bytes = asView(x.getAddr());
      addr.u = x.getFamily();
      addr.headline = true;
      b.u("port", x.getPort()).headline = true;
      b.fd("fd", x.getFd());
      b.u("family", x.getFamily(), M::kFamily);
      b.ret(x.getRet());
      return info;
    }
    case W::TLS: {
      auto x = e.getTls();
      b.u("conn", x.getConn()).headline = true;
      b.u("offset", x.getOffset());
      b.u("len", x.getLength());
      b.flag("truncated", x.getTruncated());
      // A plain socket's bytes (net.send / net.recv) came from no library.
      if (!x.getPlain()) b.bytes("lib", x.getLib(), PathRole::kLibrary);
      b.fd("fd", x.getFd());
      b.text("func", asView(x.getFunc()));
      Field& data = info.add("data", Field::Type::kPayload);
      data.bytes = asView(x.getData());
      data.headline = true;
      info.bytes = x.getData().size();
      return info;
    }
    case W::LOST:
      b.u("count", e.getLost().getCount()).headline = true;
      b.text("probe", asView(e.getLost().getProbe())).headline = true;
      return info;
    case W::SYMLINK:
      b.bytes("path", e.getSymlink().getPath(), PathRole::kPath);
      b.bytes("target", e.getSymlink().getTarget(), PathRole::kTarget);
      b.ret(e.getSymlink().getRet());
      return info;
    case W::CHDIR:
      b.bytes("path", e.getChdir().getPath(), PathRole::kWorkingDir);
      b.ret(e.getChdir().getRet());
      return info;
    case W::LINK: {
      auto x = e.getLink();
      b.twoNames(x.getOldPath(), x.getNewPath());
      b.u("flags", x.getFlags(), M::kFlags);
      b.ret(x.getRet());
      return info;
    }
    case W::FILE_CHOWN: {
      auto x = e.getFileChown();
      b.bytes("path", x.getPath(), PathRole::kPath);
      b.fd("fd", x.getFd());
      b.i("uid", x.getUid()).headline = true;
      b.i("gid", x.getGid()).headline = true;
      b.u("flags", x.getFlags(), M::kFlags);
      b.ret(x.getRet());
      return info;
    }
  }
  // A union member added by a newer writer: shown as lost data rather than guessed.
  info.known = false;
  return info;
}

Kind kindOf(schema::Event::Reader e) {
  using W = schema::Event::Which;
  // Kept apart from describe() because the index and every query call it per event:
  // a table lookup, no fields.
  switch (e.which()) {
    case W::EXEC: return Kind::kExec;
    case W::FORK: return Kind::kFork;
    case W::EXIT: return Kind::kExit;
    case W::FILE_OPEN: return Kind::kFileOpen;
    case W::FILE_CLOSE: return Kind::kFileClose;
    case W::FILE_READ: return Kind::kFileRead;
    case W::FILE_WRITE: return Kind::kFileWrite;
    case W::FILE_RENAME: return Kind::kFileRename;
    case W::FILE_UNLINK: return Kind::kFileUnlink;
    case W::FILE_MKDIR: return Kind::kFileMkdir;
    case W::FILE_RMDIR: return Kind::kFileRmdir;
    case W::FILE_TRUNCATE: return Kind::kFileTruncate;
    case W::FILE_CHMOD: return Kind::kFileChmod;
    case W::NET_CONNECT: return Kind::kNetConnect;
    case W::TLS: {
      const bool write = e.getTls().getDirection() == schema::TlsDirection::WRITE;
      if (e.getTls().getPlain()) return write ? Kind::kNetSend : Kind::kNetRecv;
      return write ? Kind::kTlsWrite : Kind::kTlsRead;
    }
    case W::LOST: return Kind::kLost;
    case W::SYMLINK: return Kind::kFileSymlink;
    case W::CHDIR: return Kind::kChdir;
    case W::LINK: return Kind::kFileLink;
    case W::FILE_CHOWN: return Kind::kFileChown;
  }
  return Kind::kLost;
}

KindArea areaOf(schema::Event::Reader e) {
  const Kind k = kindOf(e);
  if (k == Kind::kFileOpen) {
    const uint32_t flags = e.getFileOpen().getFlags();
    // Linux's O_* as recorded, not the host's (macOS has other numbers).
    using namespace linux_abi;
    const bool writes = (flags & kO_ACCMODE) != kO_RDONLY || (flags & (kO_CREAT | kO_TRUNC));
    return writes ? KindArea::kFileWrite : KindArea::kFileRead;
  }
  if (k == Kind::kFileClose)
    return e.getFileClose().getBytesWritten() > 0 ? KindArea::kFileWrite : KindArea::kFileRead;
  return kindArea(k);
}

}  // namespace aa
