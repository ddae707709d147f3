#include "viewer/app/charts_panel.h"

#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QFileInfo>
#include <QGraphicsLayout>
#include <QGridLayout>
#include <QHorizontalBarSeries>
#include <QLineSeries>
#include <QValueAxis>

namespace aa::view {

namespace {

QFont smallFont(int points, bool bold = false) {
  QFont f;
  f.setPointSize(points);
  f.setBold(bold);
  return f;
}

// Dense by default: the panel shares a dock with the event table.
void styleAxis(QAbstractAxis* axis) {
  axis->setLabelsFont(smallFont(7));
  axis->setTitleFont(smallFont(7));
}

QChartView* makeView(const QString& title) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->setTitleFont(smallFont(8, true));
  chart->legend()->setAlignment(Qt::AlignRight);
  chart->legend()->setFont(smallFont(7));
  chart->setMargins(QMargins(0, 0, 0, 0));
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  chart->setAnimationOptions(QChart::NoAnimation);
  auto* view = new QChartView(chart);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(200, 130);
  return view;
}

void fillBars(QChart* chart, const std::vector<std::pair<QString, uint64_t>>& rows,
              const QColor& color, const QString& label, bool bytes) {
  chart->removeAllSeries();
  for (QAbstractAxis* a : chart->axes()) chart->removeAxis(a);
  auto* set = new QBarSet(label);
  set->setBorderColor(color);
  set->setColor(color);
  QStringList cats;
  double max = 1;
  // Largest at the top: horizontal bars are drawn bottom-up.
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    QString name = QFileInfo(it->first).fileName();
    if (name.isEmpty()) name = it->first;
    if (name.size() > 24) name = name.left(23) + QChar(0x2026);
    cats << name;
    const double v = bytes ? double(it->second) / 1048576.0 : double(it->second);
    *set << v;
    max = std::max(max, v);
  }
  auto* series = new QHorizontalBarSeries;
  series->append(set);
  chart->addSeries(series);
  auto* y = new QBarCategoryAxis;
  y->append(cats);
  y->setTruncateLabels(false);
  styleAxis(y);
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(y);
  auto* x = new QValueAxis;
  x->setRange(0, max * 1.05);
  x->setLabelFormat(bytes ? QStringLiteral("%.1f") : QStringLiteral("%.0f"));
  x->setTitleText(bytes ? QStringLiteral("MiB read + written") : QStringLiteral("processes"));
  x->setTickCount(5);
  styleAxis(x);
  chart->addAxis(x, Qt::AlignBottom);
  series->attachAxis(x);
  chart->legend()->setVisible(false);
}

}  // namespace

ChartsPanel::ChartsPanel(QWidget* parent) : QWidget(parent) {
  m_activity = makeView(tr("Activity (events/s, stacked) — drag to select a range"));
  m_tls = makeView(tr("TLS bytes/s — drag to select a range"));
  m_files = makeView(tr("Top files by bytes"));
  m_exes = makeView(tr("Top executables by processes"));
  m_activity->setRubberBand(QChartView::HorizontalRubberBand);
  m_tls->setRubberBand(QChartView::HorizontalRubberBand);
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->addWidget(m_activity, 0, 0);
  grid->addWidget(m_tls, 0, 1);
  grid->addWidget(m_files, 1, 0);
  grid->addWidget(m_exes, 1, 1);
}

void ChartsPanel::clear() {
  for (QChartView* v : {m_activity, m_tls, m_files, m_exes}) {
    v->chart()->removeAllSeries();
    for (QAbstractAxis* a : v->chart()->axes()) v->chart()->removeAxis(a);
  }
}

void ChartsPanel::watchRange(QChart* chart) {
  for (QAbstractAxis* a : chart->axes(Qt::Horizontal)) {
    auto* axis = qobject_cast<QValueAxis*>(a);
    if (!axis) continue;
    connect(axis, &QValueAxis::rangeChanged, this, [this, chart](qreal min, qreal max) {
      if (m_updating) return;
      // The rubber band zoomed the chart: hand the range to the timeline and restore the
      // chart, whose range is driven by the timeline.
      m_updating = true;
      chart->zoomReset();
      m_updating = false;
      emit rangeSelected(min * 1e9, max * 1e9);
    });
  }
}

void ChartsPanel::setData(const ChartData& d) {
  m_updating = true;
  clear();
  const double x0 = d.fromNs / 1e9, x1 = d.toNs / 1e9;
  {
    QChart* chart = m_activity->chart();
    static const Activity shown[] = {Activity::Exec, Activity::FileRead, Activity::FileWrite,
                                     Activity::FileMeta, Activity::Sent, Activity::Received,
                                     Activity::Net, Activity::Process};
    std::vector<double> base(d.eventsPerSecond.size(), 0.0);
    double top = 1;
    auto* xAxis = new QValueAxis;
    xAxis->setRange(x0, x1);
    xAxis->setTitleText(tr("session time (s)"));
    xAxis->setTickCount(6);
    auto* yAxis = new QValueAxis;
    yAxis->setTickCount(4);
    styleAxis(xAxis);
    styleAxis(yAxis);
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(yAxis, Qt::AlignLeft);
    for (Activity a : shown) {
      double sum = 0;
      for (const auto& r : d.eventsPerSecond) sum += r[int(a)];
      if (sum == 0) continue;
      auto* lower = new QLineSeries;
      auto* upper = new QLineSeries;
      for (size_t b = 0; b < d.eventsPerSecond.size(); ++b) {
        // Steps: each bucket is flat over its width.
        const double t0 = d.bucketStartNs[b] / 1e9, t1 = (d.bucketStartNs[b] + d.bucketNs) / 1e9;
        const double lo = base[b], hi = base[b] + d.eventsPerSecond[b][int(a)];
        lower->append(t0, lo); lower->append(t1, lo);
        upper->append(t0, hi); upper->append(t1, hi);
        base[b] = hi;
        top = std::max(top, hi);
      }
      auto* area = new QAreaSeries(upper, lower);
      area->setName(activityName(a));
      area->setColor(activityColor(a));
      area->setBorderColor(activityColor(a).darker(115));
      chart->addSeries(area);
      area->attachAxis(xAxis);
      area->attachAxis(yAxis);
    }
    yAxis->setRange(0, top * 1.05);
    yAxis->setLabelFormat(QStringLiteral("%.0f"));
    chart->legend()->setVisible(true);
    watchRange(chart);
  }
  {
    QChart* chart = m_tls->chart();
    auto* xAxis = new QValueAxis;
    xAxis->setRange(x0, x1);
    xAxis->setTitleText(tr("session time (s)"));
    xAxis->setTickCount(6);
    auto* yAxis = new QValueAxis;
    yAxis->setTitleText(tr("KiB/s"));
    yAxis->setTickCount(4);
    styleAxis(xAxis);
    styleAxis(yAxis);
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(yAxis, Qt::AlignLeft);
    double top = 1;
    auto add = [&](const std::vector<double>& v, Activity a, const QString& name) {
      auto* s = new QLineSeries;
      s->setName(name);
      s->setColor(activityColor(a));
      for (size_t b = 0; b < v.size(); ++b) {
        const double t0 = d.bucketStartNs[b] / 1e9, t1 = (d.bucketStartNs[b] + d.bucketNs) / 1e9;
        s->append(t0, v[b] / 1024); s->append(t1, v[b] / 1024);
        top = std::max(top, v[b] / 1024);
      }
      chart->addSeries(s);
      s->attachAxis(xAxis);
      s->attachAxis(yAxis);
    };
    add(d.tlsOutPerSecond, Activity::Sent, tr("sent"));
    add(d.tlsInPerSecond, Activity::Received, tr("received"));
    yAxis->setRange(0, top * 1.05);
    yAxis->setLabelFormat(QStringLiteral("%.1f"));
    chart->legend()->setVisible(true);
    watchRange(chart);
  }
  fillBars(m_files->chart(), d.topFiles, activityColor(Activity::FileRead), tr("bytes"), true);
  fillBars(m_exes->chart(), d.topExecutables, activityColor(Activity::Exec), tr("processes"), false);
  m_updating = false;
}

}  // namespace aa::view
