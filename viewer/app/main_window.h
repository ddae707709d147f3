// MainWindow: wires the document, the models and the views: timeline (center), process
// tree, event table, details and charts (docks), filters/search and replay (toolbars).
// Selection, range and filters flow through here so the views never talk to each other.
#pragma once

#include <QMainWindow>
#include <QTimer>
#include <QElapsedTimer>
#include <memory>
#include <optional>

#include "store/diff/session_diff.h"
#include "viewer/models/chart_data.h"
#include "viewer/models/diff_model.h"
#include "viewer/models/event_table_model.h"
#include "viewer/models/process_tree_model.h"
#include "viewer/models/session_document.h"

class QAction;
class QComboBox;
class QDockWidget;
class QLabel;
class QLineEdit;
class QMenu;
class QSlider;
class QTableView;
class QTextBrowser;
class QTreeView;

namespace aa::view {

class ChartsPanel;
class DiffPanel;
class RunPanel;
class SessionComparison;
class TimelineView;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  // headless: no dialogs, no saved settings (screenshots must not depend on the user).
  explicit MainWindow(bool headless = false, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a session; false with *error ("PATH: reason") when nothing is readable.
  // A damaged session opens (true) and *warning names the damage.
  bool openFile(const QString& path, QString* error = nullptr, QString* warning = nullptr);

  SessionDocument* document() const { return m_doc.get(); }
  TimelineView* timeline() const { return m_timeline; }
  EventTableModel* eventModel() const { return m_events; }
  ProcessTreeModel* processModel() const { return m_processes; }
  QTreeView* processView() const { return m_processView; }
  QTableView* eventView() const { return m_eventView; }
  QTextBrowser* detailsView() const { return m_details; }
  ChartsPanel* charts() const { return m_charts; }

  void selectEvent(uint64_t seq);
  // Details pane: an LLM call's conversation and what the agent did next (the span is
  // outlined on the timeline); one HTTP exchange's headers and bodies.
  void selectLlmCall(int call);
  void showExchange(int exchange);
  void setSearchText(const QString& text);
  void setActivityEnabled(Activity a, bool on);
  void filterToProcess(int process);   // -1 clears
  // Applies pending filter/range changes now instead of after the debounce.
  void applyFilterNow();
  void updateCharts();
  // Raises a dock by name: "processes", "events", "charts" or "details"; false if unknown.
  bool showDock(const QString& name);
  QString connectionStream(uint64_t conn) const;

  // Compares the open session (run A) with run B, as `aa-session diff A B` does: the
  // Differences dock lists what changed, the Run B dock shows B's timeline beside A's.
  // Runs in the background; headless, it waits and returns false with *error ("B: why")
  // when B cannot be compared. Run A stays open and usable whatever B is.
  bool compareWith(const QString& pathB, QString* error = nullptr, QString* warning = nullptr,
                   diff::DiffOptions options = {});
  void closeComparison();
  SessionComparison* comparison() const { return m_comparison.get(); }
  DiffPanel* diffPanel() const { return m_diffPanel; }
  RunPanel* runPanel() const { return m_runB; }
  // Selects difference `row`: A's timeline and details go to A's side of it, the Run B
  // dock to B's (each says so when its run has no such item).
  void selectDifference(int row);

 protected:
  void closeEvent(QCloseEvent*) override;
  void dragEnterEvent(QDragEnterEvent*) override;
  void dropEvent(QDropEvent*) override;

 private:
  void buildUi();
  void buildActions();
  void setDocument(std::unique_ptr<SessionDocument> doc);
  void scheduleFilter();
  void nextMatch(int direction);
  void addRecent(const QString& path);
  void updateRecentMenu();
  void updateStatus();
  void openDialog();
  void showConnection(uint64_t conn);
  void replayTick();
  void setReplayActive(bool active);
  void followCursor();
  void compareDialog();
  void comparisonFinished();
  void showDifference(int row);
  // Moves the timeline to the target when it is out of view (keeps the zoom), and the
  // table with it.
  void revealTarget(const DiffTarget& target);

  bool m_headless;
  std::unique_ptr<SessionDocument> m_doc;
  TimelineView* m_timeline = nullptr;
  ProcessTreeModel* m_processes = nullptr;
  EventTableModel* m_events = nullptr;
  QTreeView* m_processView = nullptr;
  QTableView* m_eventView = nullptr;
  QTextBrowser* m_details = nullptr;
  ChartsPanel* m_charts = nullptr;
  QLineEdit* m_search = nullptr;
  QLabel* m_status = nullptr;
  QLabel* m_matchLabel = nullptr;
  QMenu* m_recentMenu = nullptr;
  QAction* m_activityActions[kActivityCount] = {};
  QAction* m_playAction = nullptr;
  QComboBox* m_speed = nullptr;
  QSlider* m_scrubber = nullptr;
  QTimer m_filterTimer;
  QTimer m_replayTimer;
  QElapsedTimer m_replayElapsed;
  qint64 m_lastFollowMs = 0;
  ReplayClock m_clock;
  bool m_replayActive = false;
  int m_subtree = -1;
  bool m_syncing = false;
  QString m_warning;
  // The comparison with run B (compareWith), its docks.
  std::unique_ptr<SessionComparison> m_comparison;
  bool m_comparisonShown = false;
  DiffPanel* m_diffPanel = nullptr;
  RunPanel* m_runB = nullptr;
  QDockWidget* m_diffDock = nullptr;
  QDockWidget* m_runBDock = nullptr;
  // Session-wide top lists for the charts, computed once per document.
  std::optional<std::pair<std::vector<std::pair<QString, uint64_t>>,
                          std::vector<std::pair<QString, uint64_t>>>> m_tops;
};

}  // namespace aa::view
