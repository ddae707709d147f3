#include "viewer/models/activity.h"

#include "store/linux_abi.h"

namespace aa::view {

int bandOf(Activity a) {
  switch (a) {
    case Activity::Exec: case Activity::Process: return 0;
    case Activity::FileRead: return 1;
    case Activity::FileWrite: return 2;
    case Activity::FileMeta: return 3;
    case Activity::TlsOut: case Activity::Net: return 4;
    case Activity::TlsIn: return 5;
    case Activity::Lost: case Activity::Count: break;
  }
  return -1;
}

Activity activityOfKind(Kind k) {
  switch (k) {
    case Kind::kExec: return Activity::Exec;
    case Kind::kFork: case Kind::kExit: return Activity::Process;
    case Kind::kFileOpen: case Kind::kFileClose: case Kind::kFileRead: return Activity::FileRead;
    case Kind::kFileWrite: case Kind::kFileTruncate: return Activity::FileWrite;
    case Kind::kFileRename: case Kind::kFileUnlink: case Kind::kFileMkdir:
    case Kind::kFileRmdir: case Kind::kFileChmod: case Kind::kFileSymlink: case Kind::kChdir:
    case Kind::kFileLink: case Kind::kFileChown:
      return Activity::FileMeta;
    case Kind::kNetConnect: return Activity::Net;
    case Kind::kTlsWrite: return Activity::TlsOut;
    case Kind::kTlsRead: return Activity::TlsIn;
    case Kind::kLost: case Kind::kCount: break;
  }
  return Activity::Lost;
}

Activity activityOf(schema::Event::Reader e) {
  // Opens and closes are reads or writes depending on the event itself.
  const Kind k = kindOf(e);
  if (k == Kind::kFileOpen) {
    const uint32_t flags = e.getFileOpen().getFlags();
    // Linux's O_* as recorded, not the host's (macOS has other numbers).
    using namespace linux_abi;
    const bool writes = (flags & kO_ACCMODE) != kO_RDONLY || (flags & (kO_CREAT | kO_TRUNC));
    return writes ? Activity::FileWrite : Activity::FileRead;
  }
  if (k == Kind::kFileClose)
    return e.getFileClose().getBytesWritten() > 0 ? Activity::FileWrite : Activity::FileRead;
  return activityOfKind(k);
}

KindMask kindsOf(ActivityMask mask) {
  KindMask kinds = 0;
  for (int k = 0; k < kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    Activity a = activityOfKind(kind);
    bool hit = mask & activityBit(a);
    // Opens and closes are reads or writes depending on the event itself.
    if ((kind == Kind::kFileOpen || kind == Kind::kFileClose) &&
        (mask & activityBit(Activity::FileWrite)))
      hit = true;
    if (hit) kinds |= bit(kind);
  }
  return kinds;
}

QColor activityColor(Activity a) {
  switch (a) {
    case Activity::Exec: return QColor(0x8e, 0x44, 0xad);      // purple
    case Activity::FileRead: return QColor(0x21, 0x7d, 0xd8);  // blue
    case Activity::FileWrite: return QColor(0xe6, 0x7e, 0x22); // orange
    case Activity::FileMeta: return QColor(0x27, 0xae, 0x60);  // green
    case Activity::TlsOut: return QColor(0xd6, 0x30, 0x31);    // red
    case Activity::TlsIn: return QColor(0xe8, 0x43, 0x93);     // pink
    case Activity::Net: return QColor(0x00, 0x9c, 0xa6);       // teal
    case Activity::Process: return QColor(0x6c, 0x7a, 0x89);   // slate
    case Activity::Lost: return QColor(0x30, 0x30, 0x30);
    case Activity::Count: break;
  }
  return Qt::black;
}

QString activityName(Activity a) {
  switch (a) {
    case Activity::Exec: return QStringLiteral("exec");
    case Activity::FileRead: return QStringLiteral("file read");
    case Activity::FileWrite: return QStringLiteral("file write");
    case Activity::FileMeta: return QStringLiteral("file metadata");
    case Activity::TlsOut: return QStringLiteral("TLS out");
    case Activity::TlsIn: return QStringLiteral("TLS in");
    case Activity::Net: return QStringLiteral("connect");
    case Activity::Process: return QStringLiteral("fork/exit");
    case Activity::Lost: return QStringLiteral("lost");
    case Activity::Count: break;
  }
  return QStringLiteral("?");
}

}  // namespace aa::view
