#include "viewer/app/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDialog>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QPlainTextEdit>
#include <QProgressDialog>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QTableView>
#include <QTextBrowser>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>
#include <atomic>
#include <thread>

#include "store/render/units.h"
#include "viewer/app/charts_panel.h"
#include "viewer/app/diff_panel.h"
#include "viewer/app/run_panel.h"
#include "viewer/app/timeline_view.h"
#include "viewer/models/connection_stream.h"
#include "viewer/models/details_html.h"
#include "viewer/models/event_format.h"
#include "viewer/models/session_comparison.h"

namespace aa::view {

namespace {

constexpr int kMaxRecent = 8;

QIcon swatch(const QColor& c) {
  QPixmap pm(14, 14);
  pm.fill(Qt::transparent);
  QPainter p(&pm);
  p.setRenderHint(QPainter::Antialiasing);
  p.setBrush(c);
  p.setPen(c.darker(130));
  p.drawRoundedRect(QRectF(1.5, 1.5, 11, 11), 2, 2);
  return QIcon(pm);
}

QString humanSize(double b) { return QString::fromStdString(formatBytes(uint64_t(b))); }

}  // namespace

MainWindow::MainWindow(bool headless, QWidget* parent) : QMainWindow(parent), m_headless(headless) {
  setWindowTitle(tr("aa-view"));
  setAcceptDrops(true);
  buildUi();
  buildActions();
  m_filterTimer.setSingleShot(true);
  m_filterTimer.setInterval(250);
  connect(&m_filterTimer, &QTimer::timeout, this, &MainWindow::applyFilterNow);
  m_replayTimer.setInterval(33);
  connect(&m_replayTimer, &QTimer::timeout, this, &MainWindow::replayTick);
  resize(1500, 950);
  if (!m_headless) {
    QSettings s;
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    // A comparison's docks come back with the comparison, not with the layout.
    m_runBDock->hide();
    m_diffDock->hide();
    m_speed->setCurrentIndex(s.value(QStringLiteral("replay/speedIndex"), 3).toInt());
  }
  updateRecentMenu();
  updateStatus();
}

MainWindow::~MainWindow() {
  // Views hold raw pointers into the document: detach them before it goes.
  m_runB->setDocument(nullptr);
  m_timeline->setDocument(nullptr);
  m_events->setDocument(nullptr);
  m_processes->setDocument(nullptr);
}

void MainWindow::buildUi() {
  m_timeline = new TimelineView(this);
  setCentralWidget(m_timeline);

  m_processes = new ProcessTreeModel(this);
  m_processView = new QTreeView;
  m_processView->setModel(m_processes);
  m_processView->setUniformRowHeights(true);
  m_processView->setAlternatingRowColors(true);
  m_processView->header()->setSectionResizeMode(QHeaderView::Interactive);
  m_processView->setColumnWidth(ProcessTreeModel::NameColumn, 150);
  m_processView->setColumnWidth(ProcessTreeModel::PidColumn, 60);
  m_processView->setColumnWidth(ProcessTreeModel::CommandColumn, 220);
  auto* procDock = new QDockWidget(tr("Processes"), this);
  procDock->setObjectName(QStringLiteral("processes"));
  procDock->setWidget(m_processView);
  addDockWidget(Qt::LeftDockWidgetArea, procDock);

  m_events = new EventTableModel(this);
  m_eventView = new QTableView;
  m_eventView->setModel(m_events);
  m_eventView->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_eventView->setSelectionMode(QAbstractItemView::SingleSelection);
  m_eventView->verticalHeader()->setDefaultSectionSize(20);
  m_eventView->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  m_eventView->verticalHeader()->hide();
  m_eventView->setSortingEnabled(true);
  m_eventView->sortByColumn(EventTableModel::TimeColumn, Qt::AscendingOrder);
  m_eventView->horizontalHeader()->setStretchLastSection(false);
  m_eventView->setColumnWidth(EventTableModel::TimeColumn, 120);
  m_eventView->setColumnWidth(EventTableModel::ProcessColumn, 140);
  m_eventView->setColumnWidth(EventTableModel::KindColumn, 110);
  m_eventView->horizontalHeader()->setSectionResizeMode(EventTableModel::SummaryColumn, QHeaderView::Stretch);
  m_eventView->setColumnWidth(EventTableModel::BytesColumn, 80);
  m_eventView->setWordWrap(false);
  // A comparison's run B: its timeline right under A's, above the table (hidden until
  // there is a comparison).
  m_runB = new RunPanel;
  m_runBDock = new QDockWidget(tr("Run B"), this);
  m_runBDock->setObjectName(QStringLiteral("run-b"));
  m_runBDock->setWidget(m_runB);
  addDockWidget(Qt::BottomDockWidgetArea, m_runBDock);
  m_runBDock->hide();

  auto* eventDock = new QDockWidget(tr("Events"), this);
  eventDock->setObjectName(QStringLiteral("events"));
  eventDock->setWidget(m_eventView);
  addDockWidget(Qt::BottomDockWidgetArea, eventDock, Qt::Vertical);

  m_charts = new ChartsPanel;
  auto* chartDock = new QDockWidget(tr("Charts"), this);
  chartDock->setObjectName(QStringLiteral("charts"));
  chartDock->setWidget(m_charts);
  addDockWidget(Qt::BottomDockWidgetArea, chartDock);
  tabifyDockWidget(eventDock, chartDock);
  m_diffPanel = new DiffPanel;
  m_diffDock = new QDockWidget(tr("Differences"), this);
  m_diffDock->setObjectName(QStringLiteral("differences"));
  m_diffDock->setWidget(m_diffPanel);
  addDockWidget(Qt::BottomDockWidgetArea, m_diffDock);
  tabifyDockWidget(chartDock, m_diffDock);
  m_diffDock->hide();
  eventDock->raise();

  m_details = new QTextBrowser;
  m_details->setOpenLinks(false);
  m_details->setPlaceholderText(tr("Select an event on the timeline or in the table."));
  auto* detailDock = new QDockWidget(tr("Details"), this);
  detailDock->setObjectName(QStringLiteral("details"));
  detailDock->setWidget(m_details);
  addDockWidget(Qt::RightDockWidgetArea, detailDock);

  resizeDocks({procDock, detailDock}, {330, 380}, Qt::Horizontal);
  resizeDocks({eventDock}, {300}, Qt::Vertical);

  m_status = new QLabel;
  statusBar()->addWidget(m_status, 1);

  connect(m_timeline, &TimelineView::rangeChanged, this, [this] { scheduleFilter(); });
  connect(m_timeline, &TimelineView::eventClicked, this, [this](qulonglong seq) { selectEvent(seq); });
  connect(m_timeline, &TimelineView::llmCallClicked, this, [this](int call) { selectLlmCall(call); });
  connect(m_timeline, &TimelineView::processClicked, this, [this](int p) {
    m_processView->setCurrentIndex(m_processes->indexOfProcess(p));
    m_processView->scrollTo(m_processView->currentIndex());
  });
  connect(m_timeline, &TimelineView::collapsedChanged, this, [this](int p, bool collapsed) {
    if (m_syncing) return;
    m_syncing = true;
    m_processView->setExpanded(m_processes->indexOfProcess(p), !collapsed);
    m_syncing = false;
  });
  connect(m_processView, &QTreeView::collapsed, this, [this](const QModelIndex& i) {
    if (m_syncing) return;
    m_syncing = true;
    m_timeline->setCollapsed(ProcessTreeModel::processOf(i), true);
    m_syncing = false;
  });
  connect(m_processView, &QTreeView::expanded, this, [this](const QModelIndex& i) {
    if (m_syncing) return;
    m_syncing = true;
    m_timeline->setCollapsed(ProcessTreeModel::processOf(i), false);
    m_syncing = false;
  });
  connect(m_processView, &QTreeView::doubleClicked, this, [this](const QModelIndex& i) {
    filterToProcess(ProcessTreeModel::processOf(i));
  });
  connect(m_eventView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& cur) {
            if (m_syncing || !cur.isValid()) return;
            selectEvent(m_events->data(cur, EventTableModel::SeqRole).toULongLong());
          });
  connect(m_details, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
    const QString s = url.toString();
    if (s.startsWith(QStringLiteral("aa:conn/"))) showConnection(s.mid(8).toULongLong());
    else if (s.startsWith(QStringLiteral("aa:call/"))) selectLlmCall(s.mid(8).toInt());
    else if (s.startsWith(QStringLiteral("aa:exchange/"))) showExchange(s.mid(12).toInt());
    else if (s.startsWith(QStringLiteral("aa:event/"))) {
      // A link (a tool call's effect, an action) may point outside the visible range.
      const uint64_t seq = s.mid(9).toULongLong();
      revealTarget(DiffTarget{{seq}, {}, {}});
      selectEvent(seq);
    }
  });
  connect(m_diffPanel, &DiffPanel::differenceSelected, this, &MainWindow::showDifference);
  connect(m_diffPanel, &DiffPanel::causeSelected, this, [this](DiffSide side, int call) {
    if (side == DiffSide::B) {
      m_runB->selectLlmCall(call, true);
      return;
    }
    revealTarget(DiffTarget{{}, size_t(call), {}});
    selectLlmCall(call);
  });
  connect(m_charts, &ChartsPanel::rangeSelected, this, [this](double a, double b) {
    m_timeline->setRange(a, b);
  });
}

void MainWindow::buildActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QToolBar* tb = addToolBar(tr("Main"));
  tb->setObjectName(QStringLiteral("main"));
  tb->setIconSize(QSize(14, 14));
  QAction* open = file->addAction(tr("&Open…"), this, &MainWindow::openDialog);
  open->setShortcut(QKeySequence::Open);
  m_recentMenu = file->addMenu(tr("Open &Recent"));
  file->addSeparator();
  file->addAction(tr("&Compare With…"), QKeySequence(Qt::CTRL | Qt::Key_D), this, &MainWindow::compareDialog)
      ->setToolTip(tr("Diff this run against another recording of the agent (as aa-session diff)"));
  file->addAction(tr("C&lose Comparison"), this, &MainWindow::closeComparison);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);
  tb->addAction(open);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  auto addView = [&](const QString& text, const QList<QKeySequence>& keys, auto slot) {
    QAction* a = view->addAction(text, m_timeline, slot);
    a->setShortcuts(keys);
    return a;
  };
  tb->addSeparator();
  tb->addAction(addView(tr("Zoom &In"), {QKeySequence(Qt::CTRL | Qt::Key_Plus), QKeySequence(Qt::CTRL | Qt::Key_Equal)}, &TimelineView::zoomIn));
  tb->addAction(addView(tr("Zoom &Out"), {QKeySequence(Qt::CTRL | Qt::Key_Minus)}, &TimelineView::zoomOut));
  tb->addAction(addView(tr("&Fit All"), {QKeySequence(Qt::CTRL | Qt::Key_0)}, &TimelineView::fitAll));
  addView(tr("Pan &Left"), {QKeySequence(Qt::ALT | Qt::Key_Left)}, &TimelineView::panLeft);
  addView(tr("Pan &Right"), {QKeySequence(Qt::ALT | Qt::Key_Right)}, &TimelineView::panRight);
  view->addSeparator();
  view->addAction(tr("&Collapse All Processes"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this] {
    m_timeline->collapseAll(true);
    m_processView->collapseAll();
  });
  view->addAction(tr("&Expand All Processes"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), this, [this] {
    m_timeline->collapseAll(false);
    m_processView->expandAll();
  });
  QAction* hideIdle = view->addAction(tr("&Hide Idle Processes"));
  hideIdle->setCheckable(true);
  hideIdle->setChecked(m_timeline->hideIdle());
  hideIdle->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_H));
  hideIdle->setToolTip(tr("Show lanes only for processes alive in the visible range"));
  connect(hideIdle, &QAction::toggled, m_timeline, &TimelineView::setHideIdle);
  view->addSeparator();
  for (QDockWidget* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());

  QMenu* filter = menuBar()->addMenu(tr("F&ilter"));
  QToolBar* ftb = addToolBar(tr("Filter"));
  ftb->setObjectName(QStringLiteral("filter"));
  ftb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  ftb->setIconSize(QSize(12, 12));
  static const Activity toggles[] = {Activity::Exec, Activity::FileRead, Activity::FileWrite,
                                     Activity::FileMeta, Activity::Sent, Activity::Received,
                                     Activity::Net, Activity::Process};
  int n = 1;
  for (Activity a : toggles) {
    QAction* act = filter->addAction(swatch(activityColor(a)), activityName(a));
    act->setCheckable(true);
    act->setChecked(true);
    act->setShortcut(QKeySequence(Qt::CTRL | (Qt::Key_0 + n++)));
    act->setToolTip(tr("Show %1 events (%2)").arg(activityName(a), act->shortcut().toString()));
    connect(act, &QAction::toggled, this, [this] { scheduleFilter(); });
    m_activityActions[int(a)] = act;
    ftb->addAction(act);
  }
  filter->addSeparator();
  filter->addAction(tr("Only Selected Process &Subtree"), QKeySequence(Qt::CTRL | Qt::Key_P), this, [this] {
    filterToProcess(ProcessTreeModel::processOf(m_processView->currentIndex()));
  });
  filter->addAction(tr("&All Processes"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), this,
                    [this] { filterToProcess(-1); });
  ftb->addSeparator();
  m_search = new QLineEdit;
  m_search->setPlaceholderText(tr("Search path or payload (Ctrl+F)"));
  m_search->setClearButtonEnabled(true);
  m_search->setMaximumWidth(260);
  ftb->addWidget(m_search);
  connect(m_search, &QLineEdit::textChanged, this, [this] {
    m_filterTimer.start(400);
  });
  connect(m_search, &QLineEdit::returnPressed, this, [this] { applyFilterNow(); nextMatch(1); });
  filter->addAction(tr("&Find…"), QKeySequence::Find, this, [this] { m_search->setFocus(); m_search->selectAll(); });
  QAction* next = filter->addAction(tr("&Next Match"), QKeySequence(Qt::Key_F3), this, [this] { nextMatch(1); });
  QAction* prev = filter->addAction(tr("&Previous Match"), QKeySequence(Qt::SHIFT | Qt::Key_F3), this, [this] { nextMatch(-1); });
  ftb->addAction(prev);
  ftb->addAction(next);
  prev->setText(QStringLiteral("◀"));
  next->setText(QStringLiteral("▶"));
  m_matchLabel = new QLabel;
  ftb->addWidget(m_matchLabel);

  QMenu* replay = menuBar()->addMenu(tr("&Replay"));
  QToolBar* rtb = addToolBar(tr("Replay"));
  rtb->setObjectName(QStringLiteral("replay"));
  m_playAction = replay->addAction(tr("Play / Pause"), QKeySequence(Qt::Key_Space), this, [this] {
    if (!m_doc) return;
    if (m_clock.playing()) {
      m_clock.pause();
      m_replayTimer.stop();
    } else {
      if (!m_replayActive) {
        m_clock.setRange(0, double(m_doc->durationNs()));
        m_clock.seek(std::max(0.0, m_timeline->axis().from()));
        setReplayActive(true);
      }
      m_clock.play();
      m_replayElapsed.start();
      m_replayTimer.start();
    }
    m_playAction->setText(m_clock.playing() ? tr("Pause") : tr("Play"));
  });
  m_playAction->setText(tr("Play"));
  rtb->addAction(m_playAction);
  QAction* stop = replay->addAction(tr("Stop Replay"), QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] {
    m_clock.pause();
    m_replayTimer.stop();
    setReplayActive(false);
    m_playAction->setText(tr("Play"));
  });
  rtb->addAction(stop);
  m_speed = new QComboBox;
  for (int s : {1, 2, 5, 10, 20, 50, 100}) m_speed->addItem(QStringLiteral("%1×").arg(s), s);
  connect(m_speed, &QComboBox::currentIndexChanged, this, [this] {
    m_clock.setSpeed(m_speed->currentData().toDouble());
  });
  rtb->addWidget(m_speed);
  replay->addAction(tr("Faster"), QKeySequence(Qt::Key_BracketRight), this, [this] {
    m_speed->setCurrentIndex(std::min(m_speed->count() - 1, m_speed->currentIndex() + 1));
  });
  replay->addAction(tr("Slower"), QKeySequence(Qt::Key_BracketLeft), this, [this] {
    m_speed->setCurrentIndex(std::max(0, m_speed->currentIndex() - 1));
  });
  m_scrubber = new QSlider(Qt::Horizontal);
  m_scrubber->setRange(0, 10000);
  m_scrubber->setMinimumWidth(220);
  m_scrubber->setToolTip(tr("Replay position"));
  connect(m_scrubber, &QSlider::sliderMoved, this, [this](int v) {
    if (!m_doc) return;
    if (!m_replayActive) {
      m_clock.setRange(0, double(m_doc->durationNs()));
      setReplayActive(true);
    }
    m_clock.seek(double(m_doc->durationNs()) * v / 10000.0);
    m_timeline->setReplayCursor(m_clock.cursor());
    followCursor();
  });
  rtb->addWidget(m_scrubber);
}

void MainWindow::openDialog() {
  QSettings s;
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open session"), s.value(QStringLiteral("files/lastDir")).toString(),
      tr("Sessions (*.aas);;All files (*)"));
  if (path.isEmpty()) return;
  s.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
  openFile(path);
}

bool MainWindow::openFile(const QString& path, QString* error, QString* warning) {
  StatusOr<std::unique_ptr<SessionDocument>> result = Status::error("not opened");
  if (m_headless) {
    result = SessionDocument::open(path);
  } else {
    // Open on a thread so the progress dialog stays live while an index is (re)built.
    std::atomic<uint64_t> done{0}, total{0};
    std::atomic<bool> finished{false};
    QThread* guiThread = thread();
    std::thread worker([&] {
      result = SessionDocument::open(path, [&](uint64_t d, uint64_t t) { done = d; total = t; });
      if (result.ok()) result.value()->moveToThread(guiThread);
      finished = true;
    });
    QProgressDialog progress(tr("Indexing %1…").arg(QFileInfo(path).fileName()), QString(), 0, 1000, this);
    progress.setWindowModality(Qt::WindowModal);
    progress.setMinimumDuration(300);
    while (!finished) {
      if (total > 0) progress.setValue(int(1000.0 * done / total));
      QApplication::processEvents(QEventLoop::AllEvents, 30);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    worker.join();
    progress.reset();
  }
  if (!result.ok()) {
    const QString msg = QString::fromStdString(result.status().message());
    if (error) *error = msg;
    if (!m_headless)
      QMessageBox::critical(this, tr("Cannot open session"),
                            tr("<b>%1</b><br>could not be opened:<br><br>%2").arg(path.toHtmlEscaped(), msg.toHtmlEscaped()));
    return false;
  }
  std::unique_ptr<SessionDocument> doc = std::move(result.value());
  m_warning.clear();
  if (!doc->damage().ok()) {
    m_warning = QString::fromStdString(doc->damage().message());
    if (warning) *warning = m_warning;
  }
  const uint64_t events = doc->eventCount(), frames = doc->frames().size();
  const double duration = double(doc->durationNs());
  setDocument(std::move(doc));
  addRecent(path);
  if (!m_warning.isEmpty() && !m_headless) {
    QMessageBox::warning(
        this, tr("Damaged session"),
        tr("<b>%1</b> is damaged:<br>%2<br><br>Showing the readable part: %3 events in %4 frames, "
           "up to %5.")
            .arg(path.toHtmlEscaped(), m_warning.toHtmlEscaped())
            .arg(events).arg(frames).arg(formatSessionTime(duration, 1e6)));
  }
  return true;
}

void MainWindow::setDocument(std::unique_ptr<SessionDocument> doc) {
  closeComparison();   // it compared the previous run A
  m_replayTimer.stop();
  m_clock = ReplayClock();
  m_replayActive = false;
  m_subtree = -1;
  m_tops.reset();
  m_details->clear();
  // Views first, so nothing paints from the old document while it is destroyed.
  m_timeline->setDocument(nullptr);
  m_events->setDocument(nullptr);
  m_processes->setDocument(nullptr);
  m_charts->clear();
  m_doc = std::move(doc);
  if (!m_doc) return;
  setWindowTitle(tr("%1 — aa-view").arg(QFileInfo(m_doc->path()).fileName()));
  m_processes->setDocument(m_doc.get());
  // Expanding a tree of tens of thousands of processes costs seconds in QTreeView's
  // layout: big sessions start with the first level open only.
  if (m_doc->processes().size() <= 5000) m_processView->expandAll();
  else m_processView->expandToDepth(0);
  m_timeline->setDocument(m_doc.get());
  connect(m_doc.get(), &SessionDocument::summaryReady, this, [this] {
    updateCharts();
    updateStatus();
  });
  connect(m_doc.get(), &SessionDocument::trafficReady, this, [this] { updateStatus(); });
  m_doc->startSummary();
  applyFilterNow();
  updateStatus();
  // The table comes right after the first timeline paint: QTableView's header sizes
  // every row (about 0.5 s for 10M events), which should not delay seeing the session.
  QTimer::singleShot(0, this, [this, doc = m_doc.get()] {
    if (m_doc.get() != doc) return;
    m_events->setDocument(doc);
    applyFilterNow();
  });
}

void MainWindow::scheduleFilter() { m_filterTimer.start(); }

void MainWindow::applyFilterNow() {
  m_filterTimer.stop();
  if (!m_doc) return;
  EventFilter f;
  f.activities = 0;
  for (int a = 0; a < kActivityCount; ++a)
    if (!m_activityActions[a] || m_activityActions[a]->isChecked()) f.activities |= activityBit(Activity(a));
  if (m_subtree >= 0) {
    f.processes.assign(m_doc->processes().size(), 0);
    for (int p : m_doc->subtree(m_subtree)) f.processes[p] = 1;
  }
  f.text = m_search->text().toUtf8().toLower();
  const TimeAxis& axis = m_timeline->axis();
  // The whole session in view: no time restriction, so whole frames need no decoding.
  if (axis.from() > 0 || axis.to() < double(m_doc->durationNs())) {
    f.fromNs = axis.from();
    f.toNs = axis.to();
  }
  m_timeline->setActivityFilter(f.activities);
  m_timeline->setProcessFilter(f.processes);
  if (m_events->document() != m_doc.get()) return;
  if (f == m_events->filter() && m_events->rowCount() > 0) return;
  uint64_t selected = 0;
  bool hadSelection = false;
  if (QModelIndex cur = m_eventView->currentIndex(); cur.isValid()) {
    selected = m_events->data(cur, EventTableModel::SeqRole).toULongLong();
    hadSelection = true;
  }
  std::unique_ptr<QProgressDialog> progress;
  if (!m_headless) {
    progress = std::make_unique<QProgressDialog>(tr("Filtering events…"), tr("Cancel"), 0, 1000, this);
    progress->setWindowModality(Qt::WindowModal);
    progress->setMinimumDuration(500);
  }
  m_syncing = true;
  m_events->setFilter(f, [&](size_t done, size_t total) {
    if (!progress) return true;
    progress->setValue(int(1000.0 * done / std::max<size_t>(1, total)));
    return !progress->wasCanceled();
  });
  if (hadSelection) {
    const int row = m_events->rowOfSeq(selected);
    if (row >= 0) {
      m_eventView->setCurrentIndex(m_events->index(row, 0));
      m_eventView->scrollTo(m_events->index(row, 0), QAbstractItemView::PositionAtCenter);
    }
  }
  m_syncing = false;
  m_timeline->setMatches(f.text.isEmpty() ? std::vector<Mark>{} : m_events->rows().matches());
  m_matchLabel->setText(f.text.isEmpty() ? QString() : tr(" %1 matches ").arg(m_events->rows().size()));
  updateCharts();
  updateStatus();
}

void MainWindow::updateCharts() {
  if (!m_doc) return;
  auto summary = m_doc->summary();
  if (!summary) return;
  const TimeAxis& axis = m_timeline->axis();
  ChartData d = computeChartData(*m_doc, *summary, std::max(0.0, axis.from()),
                                 std::min(axis.to(), double(m_doc->durationNs())), 120,
                                 m_tops ? 0 : 10);
  if (m_tops) {
    d.topFiles = m_tops->first;
    d.topExecutables = m_tops->second;
  } else {
    m_tops.emplace(d.topFiles, d.topExecutables);
  }
  m_charts->setData(d);
}

bool MainWindow::showDock(const QString& name) {
  for (QDockWidget* d : findChildren<QDockWidget*>()) {
    if (d->objectName() != name) continue;
    d->show();
    d->raise();
    // Charts need height to be legible; the table is fine with less.
    if (name == QStringLiteral("charts")) resizeDocks({d}, {height() * 45 / 100}, Qt::Vertical);
    return true;
  }
  return false;
}

void MainWindow::selectEvent(uint64_t seq) {
  if (!m_doc) return;
  const std::optional<EventDetails> d = eventDetails(*m_doc, seq);
  if (!d) return;
  m_details->setHtml(d->html);
  m_timeline->setSelectedEvent(seq, d->ns, d->process);
  m_timeline->setSelectedCall(d->call);
  const int row = m_events->rowOfSeq(seq);
  if (row >= 0 && !m_syncing) {
    m_syncing = true;
    m_eventView->setCurrentIndex(m_events->index(row, 0));
    m_eventView->scrollTo(m_events->index(row, 0));
    m_syncing = false;
  }
}

void MainWindow::selectLlmCall(int call) {
  if (!m_doc) return;
  auto data = m_doc->traffic();
  if (!data || call < 0 || size_t(call) >= data->traffic.calls.size()) return;
  m_details->setHtml(llmCallDetailsHtml(*m_doc, size_t(call)));
  m_timeline->setSelectedCall(call);
  showDock(QStringLiteral("details"));
}

void MainWindow::showExchange(int exchange) {
  if (!m_doc) return;
  auto data = m_doc->traffic();
  if (!data || exchange < 0 || size_t(exchange) >= data->traffic.exchanges.size()) return;
  const uint64_t origin = m_doc->header().startMonoNs;
  const auto& x = data->traffic.exchanges[size_t(exchange)];
  m_details->setHtml(exchangeHtml(data->traffic, size_t(exchange), origin) +
                     connectionExchangesHtml(data->traffic, x.conn, exchange, origin));
  m_timeline->setSelectedCall(int(callOfExchange(data->traffic, size_t(exchange))));
}

void MainWindow::setSearchText(const QString& text) {
  m_search->setText(text);
  applyFilterNow();
}

void MainWindow::setActivityEnabled(Activity a, bool on) {
  if (m_activityActions[int(a)]) m_activityActions[int(a)]->setChecked(on);
  applyFilterNow();
}

void MainWindow::filterToProcess(int process) {
  m_subtree = process;
  applyFilterNow();
}

void MainWindow::nextMatch(int direction) {
  const int rows = m_events->rowCount();
  if (rows == 0 || m_search->text().isEmpty()) return;
  const QModelIndex cur = m_eventView->currentIndex();
  int row = cur.isValid() ? cur.row() + direction : (direction > 0 ? 0 : rows - 1);
  row = (row + rows) % rows;   // wrap around
  selectEvent(m_events->seqAtRow(row));
  m_matchLabel->setText(tr(" %1 / %2 ").arg(row + 1).arg(rows));
}

QString MainWindow::connectionStream(uint64_t conn) const {
  return m_doc ? connectionStreamText(*m_doc, conn) : QString();
}

void MainWindow::showConnection(uint64_t conn) {
  auto* dlg = new QDialog(this);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  dlg->setWindowTitle(tr("TLS connection %1").arg(conn));
  auto* text = new QPlainTextEdit(connectionStream(conn));
  text->setReadOnly(true);
  text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  auto* lay = new QVBoxLayout(dlg);
  lay->addWidget(text);
  dlg->resize(900, 700);
  dlg->show();
}

void MainWindow::compareDialog() {
  if (!m_doc) {
    if (!m_headless) QMessageBox::information(this, tr("Compare"), tr("Open run A first, then compare it with run B."));
    return;
  }
  QSettings s;
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Compare %1 with").arg(QFileInfo(m_doc->path()).fileName()),
      s.value(QStringLiteral("files/lastDir")).toString(), tr("Sessions (*.aas);;All files (*)"));
  if (path.isEmpty()) return;
  s.setValue(QStringLiteral("files/lastDir"), QFileInfo(path).absolutePath());
  compareWith(path);
}

bool MainWindow::compareWith(const QString& pathB, QString* error, QString* warning,
                             diff::DiffOptions options) {
  closeComparison();
  if (!m_doc) {
    const QString msg = tr("%1: nothing to compare it with: no session open").arg(pathB);
    if (error) *error = msg;
    m_diffPanel->setMessage(msg, true);
    return false;
  }
  m_comparison = std::make_unique<SessionComparison>(m_doc->path(), pathB, std::move(options));
  m_comparisonShown = false;
  connect(m_comparison.get(), &SessionComparison::finished, this, &MainWindow::comparisonFinished);
  m_diffPanel->setMessage(tr("Comparing %1 with %2…").arg(QFileInfo(m_doc->path()).fileName(), QFileInfo(pathB).fileName()));
  m_diffDock->show();
  m_diffDock->raise();
  m_comparison->start();
  if (!m_headless) return true;
  if (!m_comparison->waitForDone(300000)) {
    if (error) *error = tr("%1: comparison not done after 300 s").arg(pathB);
    return false;
  }
  comparisonFinished();
  if (warning) *warning = m_comparison->warning();
  if (m_comparison->status().ok()) return true;
  if (error) *error = QString::fromStdString(m_comparison->status().message());
  return false;
}

void MainWindow::comparisonFinished() {
  SessionComparison* c = m_comparison.get();
  if (!c || !c->done() || m_comparisonShown) return;
  m_comparisonShown = true;
  if (!c->status().ok()) {
    // One error; run A is untouched and stays as it was.
    const QString msg = QString::fromStdString(c->status().message());
    m_diffPanel->setMessage(tr("Cannot compare: %1").arg(msg), true);
    m_runBDock->hide();
    if (!m_headless)
      QMessageBox::critical(this, tr("Cannot compare"),
                            tr("Run B could not be compared with %1:<br><br>%2")
                                .arg(QFileInfo(c->pathA()).fileName().toHtmlEscaped(), msg.toHtmlEscaped()));
    return;
  }
  m_runB->setDocument(c->documentB());
  m_diffPanel->setResult(c->pathA(), c->pathB(), c->result(), c->causes(), c->warning());
  m_runBDock->show();
  m_diffDock->show();
  m_diffDock->raise();
  resizeDocks({m_runBDock}, {height() * 30 / 100}, Qt::Vertical);
  setWindowTitle(tr("%1 vs %2 — aa-view").arg(QFileInfo(c->pathA()).fileName(), QFileInfo(c->pathB()).fileName()));
}

void MainWindow::closeComparison() {
  m_runB->setDocument(nullptr);
  m_runBDock->hide();
  m_diffPanel->clear();
  m_diffDock->hide();
  m_comparison.reset();
  m_comparisonShown = false;
  if (m_doc) setWindowTitle(tr("%1 — aa-view").arg(QFileInfo(m_doc->path()).fileName()));
}

void MainWindow::selectDifference(int row) { m_diffPanel->selectRow(row); }

void MainWindow::showDifference(int row) {
  const diff::Difference* d = m_diffPanel->model()->difference(row);
  if (!d || !m_doc) return;
  const QString what = diffDescription(*d);
  const DiffTarget a = diffTarget(*d, DiffSide::A);
  revealTarget(a);   // first: the table holds the visible range, and then the selection
  if (a.empty()) {
    m_timeline->setSelectedEvent(std::nullopt);
    m_timeline->setSelectedCall(-1);
    m_details->setHtml(tr("<p style='color:#555'>Only in run B: %1</p>").arg(what.toHtmlEscaped()));
  } else if (a.call) {
    selectLlmCall(int(*a.call));
  } else {
    selectEvent(a.seqs.front());
  }
  m_runB->showTarget(diffTarget(*d, DiffSide::B), tr("Only in run A: %1").arg(what));
}

void MainWindow::revealTarget(const DiffTarget& target) {
  if (!m_doc || target.empty()) return;
  const auto span = targetSpan(*m_doc, target);
  if (!span) return;
  const TimeAxis& axis = m_timeline->axis();
  const auto [from, to] = revealRange(axis.from(), axis.to(), span->first, span->second,
                                      double(m_doc->durationNs()));
  if (from == axis.from() && to == axis.to()) return;
  m_timeline->setRange(from, to);
  applyFilterNow();   // the table shows the new range before anything is selected in it
}

void MainWindow::setReplayActive(bool active) {
  m_replayActive = active;
  m_timeline->setReplayCursor(active ? std::optional<double>(m_clock.cursor()) : std::nullopt);
}

void MainWindow::replayTick() {
  const double wall = double(m_replayElapsed.nsecsElapsed());
  m_replayElapsed.restart();
  const bool playing = m_clock.advance(wall);
  const double cursor = m_clock.cursor();
  m_timeline->setReplayCursor(cursor);
  // Keep the cursor in view: page forward when it leaves the visible range.
  const TimeAxis& axis = m_timeline->axis();
  if (cursor > axis.to() || cursor < axis.from())
    m_timeline->setRange(cursor - axis.span() * 0.1, cursor + axis.span() * 0.9);
  if (m_doc && m_doc->durationNs())
    m_scrubber->setValue(int(10000.0 * cursor / double(m_doc->durationNs())));
  if (m_replayElapsed.isValid() && QDateTime::currentMSecsSinceEpoch() - m_lastFollowMs > 150) {
    m_lastFollowMs = QDateTime::currentMSecsSinceEpoch();
    followCursor();
  }
  if (!playing) {
    m_replayTimer.stop();
    m_playAction->setText(tr("Play"));
  }
}

void MainWindow::followCursor() {
  const int row = m_events->rowAtTime(m_clock.cursor());
  if (row < 0) return;
  selectEvent(m_events->seqAtRow(row));
}

void MainWindow::addRecent(const QString& path) {
  if (m_headless) return;
  QSettings s;
  QStringList recent = s.value(QStringLiteral("files/recent")).toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent.removeAll(abs);
  recent.prepend(abs);
  while (recent.size() > kMaxRecent) recent.removeLast();
  s.setValue(QStringLiteral("files/recent"), recent);
  updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
  m_recentMenu->clear();
  const QStringList recent = m_headless ? QStringList() : QSettings().value(QStringLiteral("files/recent")).toStringList();
  for (const QString& path : recent)
    m_recentMenu->addAction(path, this, [this, path] { openFile(path); });
  m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::updateStatus() {
  if (!m_doc) {
    m_status->setText(tr("No session. Open one with Ctrl+O or drop a .aas file."));
    return;
  }
  QStringList parts;
  parts << QFileInfo(m_doc->path()).fileName()
        << tr("%1 events").arg(m_doc->eventCount())
        << tr("%1 processes").arg(m_doc->processes().size())
        << formatDuration(double(m_doc->durationNs()))
        << humanSize(double(m_doc->fileSize()));
  if (!m_doc->summary()) parts << tr("building overview…");
  if (auto data = m_doc->traffic()) {
    if (!data->error.isEmpty()) parts << data->error;
    else if (!data->traffic.exchanges.empty())
      parts << tr("%1 HTTP exchanges, <span style='color:%3'>%2 LLM calls</span>")
                   .arg(data->traffic.exchanges.size()).arg(data->traffic.calls.size()).arg(llmColor().name());
  }
  if (m_events->rowCount() != int(m_doc->eventCount())) parts << tr("%1 in table").arg(m_events->rowCount());
  QString text = parts.join(QStringLiteral("  ·  "));
  uint64_t lost = 0;
  for (const auto& l : m_doc->lostTotals()) lost += l.count;
  if (lost) text += tr("  ·  <span style='color:#c0392b'>%1 events lost</span>").arg(lost);
  if (!m_warning.isEmpty()) text += tr("  ·  <span style='color:#c0392b'><b>damaged:</b> %1</span>").arg(m_warning.toHtmlEscaped());
  m_status->setText(text);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (!m_headless) {
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("replay/speedIndex"), m_speed->currentIndex());
  }
  QMainWindow::closeEvent(e);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  for (const QUrl& u : e->mimeData()->urls())
    if (u.isLocalFile()) {
      e->acceptProposedAction();
      return;
    }
}

void MainWindow::dropEvent(QDropEvent* e) {
  for (const QUrl& u : e->mimeData()->urls())
    if (u.isLocalFile()) {
      openFile(u.toLocalFile());
      return;
    }
}

}  // namespace aa::view
