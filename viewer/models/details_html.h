// What the details pane shows for one event or one LLM call of a document: the event's
// fields, and for a TLS event the LLM call it carried and its connection's exchanges;
// for a call, its conversation, what each tool call led to (cause and effect) and what
// the agent did next. Shared by the main window (run A) and the comparison's run B.
#pragma once

#include <QString>
#include <optional>

#include "viewer/models/session_document.h"

namespace aa::view {

// Call `call`'s conversation, tool-call effects, next actions and connection exchanges;
// "" when the traffic is not loaded or there is no such call.
QString llmCallDetailsHtml(const SessionDocument& doc, size_t call);

struct EventDetails {
  QString html;
  double ns = 0;      // session time
  int process = -1;   // process index, -1 when unknown
  int call = -1;      // the LLM call a TLS event carried, -1 for none
};
// nullopt when event `seq` cannot be read.
std::optional<EventDetails> eventDetails(const SessionDocument& doc, uint64_t seq);

}  // namespace aa::view
