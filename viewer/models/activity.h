// Activities: the six things a person looks for on the timeline (exec, file read, file
// write, file metadata, stream bytes sent and received: TLS plaintext or a plain
// socket's) plus network connects and process lifecycle.
// An Activity is the viewer's name for the store's KindArea (store/kind.h: what a kind is
// about; store/event_catalog.h areaOf: for opens and closes, from their flags or byte
// counts); it decides the color and the band a mark is drawn in.
#pragma once

#include <QColor>
#include <QString>
#include <cstdint>

#include "schema/events.capnp.h"
#include "store/kind.h"

namespace aa::view {

enum class Activity : uint8_t {
  Exec, FileRead, FileWrite, FileMeta, Sent, Received, Net, Process, Lost,
  Count  // not an activity
};

constexpr int kActivityCount = static_cast<int>(Activity::Count);
using ActivityMask = uint16_t;
constexpr ActivityMask activityBit(Activity a) { return ActivityMask(1u << static_cast<int>(a)); }
constexpr ActivityMask kAllActivities = ActivityMask((1u << kActivityCount) - 1);

// Each lane is split into horizontal bands so that two activities at the same instant
// never hide each other. Net shares the sent band, Process the exec band.
constexpr int kBandCount = 6;
int bandOf(Activity a);

// Best guess from the kind alone (what the index stores per frame and per process):
// opens and closes count as reads.
Activity activityOfKind(Kind k);
// Exact: an open for writing or a close that wrote bytes is a write.
Activity activityOf(schema::Event::Reader e);
// Kinds that can produce any activity in `mask` (a superset: used to skip frames).
KindMask kindsOf(ActivityMask mask);

QColor activityColor(Activity a);
QString activityName(Activity a);

}  // namespace aa::view
