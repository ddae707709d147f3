// SessionComparison: the viewer's `aa-session diff A B`. On a worker thread it opens
// run B as a SessionDocument (shown beside A) and compares the two runs with store/diff
// (summarizeRun on a reader of each, then diffRuns: the same alignment, ignores and
// name normalisation as the command), then emits finished() on the owner's thread.
// A failure (B missing, not a session, unreadable) is one Status naming the file; run A
// is never touched, so its window stays usable.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <thread>

#include "store/diff/session_diff.h"
#include "store/status.h"
#include "viewer/models/diff_model.h"
#include "viewer/models/session_document.h"

namespace aa::view {

class SessionComparison : public QObject {
  Q_OBJECT

 public:
  SessionComparison(QString pathA, QString pathB, diff::DiffOptions options = {},
                    QObject* parent = nullptr);
  // Waits for the worker (a comparison cannot be interrupted mid-run; on the 200k-event
  // synthetic sessions it takes under 2 s).
  ~SessionComparison() override;

  // Starts the worker; finished() follows, queued to this object's thread.
  void start();
  bool done() const { return m_done.load(); }
  // Blocks until done (for screenshots and tests); false on timeout.
  bool waitForDone(int timeoutMs) const;

  QString pathA() const { return m_pathA; }
  QString pathB() const { return m_pathB; }
  const diff::DiffOptions& options() const { return m_options; }

  // After finished(): ok, or why there is no comparison ("B.aas: cannot open: …").
  const Status& status() const { return m_status; }
  // Damage in either run, one line per run ("" when both are whole): the runs were
  // compared up to it.
  QString warning() const { return m_warning; }
  // Run B, opened (null on failure). The comparison owns it.
  SessionDocument* documentB() const { return m_docB.get(); }
  const diff::SessionDiff& result() const { return m_diff; }
  // For each difference, the calls of A and B it followed from (DiffModel::setDiff).
  const std::vector<DiffModel::Causes>& causes() const { return m_causes; }

 signals:
  void finished();

 private:
  void run();

  QString m_pathA, m_pathB;
  diff::DiffOptions m_options;
  std::thread m_worker;
  std::atomic<bool> m_done{false};
  // Written by the worker before m_done is set, read after.
  Status m_status;
  QString m_warning;
  std::unique_ptr<SessionDocument> m_docB;
  diff::SessionDiff m_diff;
  std::vector<DiffModel::Causes> m_causes;
};

}  // namespace aa::view
