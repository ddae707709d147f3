#include "viewer/models/tool_effects_view.h"

#include "viewer/models/time_axis.h"

namespace aa::view {

namespace {

QString fromStd(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }
QString esc(const std::string& s) { return fromStd(s).toHtmlEscaped(); }

// The arguments on one line, cut: the full JSON is in the conversation above.
QString argumentsPreview(const std::string& json) {
  QString s = fromStd(json).simplified();
  constexpr qsizetype kMax = 140;
  if (s.size() > kMax) s = s.left(kMax) + QStringLiteral("…");
  return s.toHtmlEscaped();
}

}  // namespace

QString toolEffectReason(const std::string& by) {
  if (by == "command") return QStringLiteral("its command line is in the tool call's arguments");
  if (by == "path") return QStringLiteral("its path or peer is in the tool call's arguments");
  if (by == "lineage") return QStringLiteral("its process descends from an exec of this tool call");
  if (by == "time") return QStringLiteral("nothing names it: it followed this tool call's other effects in time");
  return fromStd(by);
}

QString toolEffectsHtml(const traffic::LlmCall& call,
                        const std::vector<diff::ToolCallEffects>& effects) {
  if (call.toolCalls.empty()) return {};
  QString h = QStringLiteral("<h4 style='margin:8px 0 2px 0'>What each tool call led to</h4>");
  for (size_t k = 0; k < call.toolCalls.size(); ++k) {
    const traffic::LlmToolCall& tc = call.toolCalls[k];
    const diff::ToolCallEffects* fx = nullptr;
    for (const auto& e : effects)
      if (e.toolCall == k) fx = &e;
    h += QStringLiteral("<p style='margin:4px 0 1px 0'><b>tool %1 · %2</b> <span style='color:#888'>%3</span>"
                        "<br><span style='color:#555; font-family:monospace'>%4</span></p>")
             .arg(k + 1).arg(esc(tc.name), esc(tc.id), argumentsPreview(tc.arguments));
    if (!fx || fx->effects.empty()) {
      h += QStringLiteral("<p style='margin:0 0 0 12px; color:#555'>nothing attributed to it</p>");
      continue;
    }
    h += QStringLiteral("<table cellspacing='0' cellpadding='1' style='margin-left:12px'>");
    for (const diff::ToolEffect& e : fx->effects) {
      const double after = e.tNs > call.tEndNs ? double(e.tNs - call.tEndNs) : 0.0;
      h += QStringLiteral("<tr><td style='color:#555'>+%1&nbsp;</td><td>%2&nbsp;</td>"
                          "<td><a href='aa:event/%3' title='%4'>%5</a>&nbsp;</td>"
                          "<td style='color:#888'>%6</td></tr>")
               .arg(formatDuration(after), esc(e.kind))
               .arg(e.seq)
               .arg(toolEffectReason(e.by).toHtmlEscaped(), esc(e.summary), esc(e.by));
    }
    h += QStringLiteral("</table>");
  }
  return h;
}

}  // namespace aa::view
