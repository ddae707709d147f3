#include "viewer/models/activity.h"

#include "store/event_catalog.h"

namespace aa::view {

int bandOf(Activity a) {
  switch (a) {
    case Activity::Exec: case Activity::Process: return 0;
    case Activity::FileRead: return 1;
    case Activity::FileWrite: return 2;
    case Activity::FileMeta: return 3;
    case Activity::Sent: case Activity::Net: return 4;
    case Activity::Received: return 5;
    case Activity::Lost: case Activity::Count: break;
  }
  return -1;
}

namespace {

// The viewer's row for each store-level area (store/kind.h says which kind is which).
Activity activityOfArea(KindArea a) {
  switch (a) {
    case KindArea::kExec: return Activity::Exec;
    case KindArea::kProcess: return Activity::Process;
    case KindArea::kFileRead: return Activity::FileRead;
    case KindArea::kFileWrite: return Activity::FileWrite;
    case KindArea::kFileMeta: return Activity::FileMeta;
    case KindArea::kNet: return Activity::Net;
    case KindArea::kSent: return Activity::Sent;
    case KindArea::kReceived: return Activity::Received;
    case KindArea::kLost: return Activity::Lost;
  }
  return Activity::Lost;
}

}  // namespace

Activity activityOfKind(Kind k) { return activityOfArea(kindArea(k)); }

Activity activityOf(schema::Event::Reader e) { return activityOfArea(areaOf(e)); }

KindMask kindsOf(ActivityMask mask) {
  KindMask kinds = 0;
  for (int k = 0; k < kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    bool hit = mask & activityBit(activityOfKind(kind));
    // Opens and closes are reads or writes depending on the event itself.
    if (kindMayWrite(kind) && (mask & activityBit(Activity::FileWrite))) hit = true;
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
    case Activity::Sent: return QColor(0xd6, 0x30, 0x31);    // red
    case Activity::Received: return QColor(0xe8, 0x43, 0x93);     // pink
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
    case Activity::Sent: return QStringLiteral("sent");
    case Activity::Received: return QStringLiteral("received");
    case Activity::Net: return QStringLiteral("connect");
    case Activity::Process: return QStringLiteral("fork/exit");
    case Activity::Lost: return QStringLiteral("lost");
    case Activity::Count: break;
  }
  return QStringLiteral("?");
}

}  // namespace aa::view
