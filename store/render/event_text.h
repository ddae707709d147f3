// Events as one readable line each: the table `aa-session events` and `replay` print.
// Bytes that are not printable ASCII or valid UTF-8 are shown as \xNN, so a line never
// carries terminal control sequences from a recorded path or payload.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schema/events.capnp.h"
#include "store/render/units.h"

namespace aa {

// Column titles matching appendEventLine.
std::string eventTableHeader();
// "SEQ TIME PID TID COMM KIND DETAILS" plus '\n'; tRelNs is ns since session start.
void appendEventLine(std::string& out, schema::Event::Reader e, uint64_t tRelNs);
// The DETAILS column alone: the event's summary (event_summary.h), then its other
// catalog fields as key=value, e.g. `/etc/hosts flags=0x80000 mode=00 ret=3 fd=3`.
std::string eventDetails(schema::Event::Reader e);
// Printable rendering of bytes (\xNN for control and invalid UTF-8 bytes).
void appendPrintable(std::string& out, std::string_view bytes, size_t maxBytes = SIZE_MAX);

}  // namespace aa
