// Cause and effect in the conversation view: for each tool call of an LLM answer, the
// execs, file changes and connects that followed from it (store/diff's toolCallEffects,
// the data behind `aa-session llm --json`'s tool_effects), each a link "aa:event/<seq>"
// that selects the event, with how it was attributed (command, path, lineage, time).
#pragma once

#include <QString>
#include <vector>

#include "store/diff/tool_effects.h"
#include "store/traffic/llm.h"

namespace aa::view {

// The "What each tool call led to" section of an LLM call's details, times after the
// call's end; "" when the call asked for no tool.
QString toolEffectsHtml(const traffic::LlmCall& call,
                        const std::vector<diff::ToolCallEffects>& effects);

// What "by" means, for the link's tooltip.
QString toolEffectReason(const std::string& by);

}  // namespace aa::view
