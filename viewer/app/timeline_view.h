// TimelineView: lanes of processes (nested by the process tree) over a time ruler that
// shows session time and wall clock. Painting goes through a ColumnGrid (lod.h), so a
// repaint costs lanes x pixels whatever the session size; the grid is filled from
// decoded events when few are in view, else from the background summary, else (while
// that is being built) from the frame table.
#pragma once

#include <QAbstractScrollArea>
#include <QElapsedTimer>
#include <optional>

#include "viewer/models/lod.h"
#include "viewer/models/session_document.h"
#include "viewer/models/time_axis.h"

namespace aa::view {

class TimelineView : public QAbstractScrollArea {
  Q_OBJECT

 public:
  static constexpr int kRulerHeight = 40;
  static constexpr int kLabelWidth = 190;
  static constexpr int kBandHeight = 4;
  static constexpr int kLanePadding = 3;
  static constexpr int kLaneHeight = kBandCount * kBandHeight + 2 * kLanePadding;
  // Above this many events in view, draw from the summary instead of decoding.
  static constexpr double kEventThreshold = 200'000;
  // Events the GUI thread may decode in one paint (two default frames, a few ms); more
  // go to the prefetcher.
  static constexpr uint64_t kSyncDecodeEvents = 8'192;

  enum class Detail { None, Events, Summary, Frames };

  explicit TimelineView(QWidget* parent = nullptr);
  void setDocument(SessionDocument* doc);

  const TimeAxis& axis() const { return m_axis; }
  void setRange(double fromNs, double toNs);
  void setActivityFilter(ActivityMask mask);
  void setProcessFilter(std::vector<char> processes);   // by process index; empty: all
  void setMatches(std::vector<Mark> matches);
  void setSelectedEvent(std::optional<uint64_t> seq, double ns = 0, int process = -1);
  std::optional<uint64_t> selectedEvent() const { return m_selectedSeq; }
  void setReplayCursor(std::optional<double> ns);
  void setCollapsed(int process, bool collapsed);
  void collapseAll(bool collapsed);
  // Hide lanes of processes not alive in the visible range (on by default).
  void setHideIdle(bool hide);
  bool hideIdle() const { return m_hideIdle; }
  const LaneLayout& layout() const { return m_layout; }

  // Geometry in viewport coordinates, for tests and screenshots.
  QRect laneRect(int process) const;
  QRect bandRect(int process, Activity a) const;
  int timeToX(double ns) const { return kLabelWidth + int(m_axis.xOf(ns)); }
  Detail lastDetail() const { return m_lastDetail; }
  double lastPaintMs() const { return m_lastPaintMs; }

  struct Hit {
    uint64_t seq = 0;
    double ns = 0;
    int process = -1;
    QString text;
  };
  // The event nearest to viewport point `pos` within a few pixels, in its lane.
  std::optional<Hit> hitTest(QPoint pos) const;
  // The LLM call whose span covers viewport point `pos` in its lane, -1 for none.
  int llmCallAt(QPoint pos) const;
  void setSelectedCall(int call);   // outlined; -1 clears
  int selectedCall() const { return m_selectedCall; }
  // The strip under the lane's bands where LLM spans are drawn.
  QRect llmStripRect(int process) const;

 public slots:
  void zoomIn();
  void zoomOut();
  void fitAll();
  void panLeft();
  void panRight();

 signals:
  void rangeChanged(double fromNs, double toNs);
  void eventClicked(qulonglong seq);
  void llmCallClicked(int call);
  void processClicked(int process);
  void collapsedChanged(int process, bool collapsed);

 protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;
  void mouseDoubleClickEvent(QMouseEvent*) override;
  void keyPressEvent(QKeyEvent*) override;
  bool viewportEvent(QEvent*) override;

 private:
  void axisChanged();
  void updateLaneWindow();
  void updateScrollBars();
  int laneAtY(int y) const;
  int laneTop(int lane) const;
  std::vector<int> visibleLaneOf(int firstLane, int lastLane) const;
  double cutoff() const;
  void fillGrid(int firstLane, int lastLane);
  void paintRuler(QPainter& p, const QRect& r);
  void paintLanes(QPainter& p, int firstLane, int lastLane);
  void paintGaps(QPainter& p, int top, int bottom);
  void paintLlmSpans(QPainter& p, int firstLane, int lastLane, bool wash);

  SessionDocument* m_doc = nullptr;
  LaneLayout m_layout;
  TimeAxis m_axis;
  ColumnGrid m_grid;
  Detail m_lastDetail = Detail::None;
  double m_lastPaintMs = 0;
  ActivityMask m_activities = kAllActivities;
  bool m_hideIdle = true;
  std::vector<char> m_processFilter;
  std::vector<Mark> m_matches;
  std::optional<uint64_t> m_selectedSeq;
  double m_selectedNs = 0;
  int m_selectedProcess = -1;
  int m_selectedCall = -1;
  std::optional<double> m_cursor;

  enum class Drag { None, Pan, Select } m_drag = Drag::None;
  QPoint m_pressPos;
  double m_pressFrom = 0, m_pressTo = 0;
  int m_selectX0 = 0, m_selectX1 = 0;
  bool m_moved = false;
};

}  // namespace aa::view
