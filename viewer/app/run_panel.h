// RunPanel: the "Run B" dock of a comparison. Run B's own timeline and details pane,
// beside run A's window: selecting a difference moves this timeline to B's side of it
// (or says B has none). Clicks and links inside it select within run B.
#pragma once

#include <QWidget>
#include <optional>

#include "viewer/models/diff_model.h"
#include "viewer/models/session_document.h"

class QLabel;
class QTextBrowser;

namespace aa::view {

class TimelineView;

class RunPanel : public QWidget {
  Q_OBJECT

 public:
  explicit RunPanel(QWidget* parent = nullptr);
  ~RunPanel() override;

  // The run shown (not owned; null detaches). Starts its background summary.
  void setDocument(SessionDocument* doc);
  SessionDocument* document() const { return m_doc; }
  TimelineView* timeline() const { return m_timeline; }
  QTextBrowser* detailsView() const { return m_details; }

  // Selects the target in this run and moves the timeline to it; an empty target shows
  // `absent` instead (what the other run has that this one lacks).
  void showTarget(const DiffTarget& target, const QString& absent);
  void selectEvent(uint64_t seq, bool reveal);
  void selectLlmCall(int call, bool reveal);

 private:
  void reveal(const DiffTarget& target);
  void updateHeader();

  SessionDocument* m_doc = nullptr;
  QLabel* m_header;
  TimelineView* m_timeline;
  QTextBrowser* m_details;
  // A call selected before run B's traffic was loaded: shown once it is.
  std::optional<int> m_pendingCall;
};

}  // namespace aa::view
