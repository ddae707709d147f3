// ChartsPanel: the only class that touches Qt Charts (deprecated from Qt 6.10 in favour
// of Qt Graphs): porting the viewer means rewriting this file alone. It presents a
// ChartData (chart_data.h) and reports a time range selected with the rubber band.
#pragma once

#include <QWidget>

#include "viewer/models/chart_data.h"

class QChartView;
class QChart;

namespace aa::view {

class ChartsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ChartsPanel(QWidget* parent = nullptr);
  void setData(const ChartData& data);
  void clear();

 signals:
  void rangeSelected(double fromNs, double toNs);

 private:
  void watchRange(QChart* chart);
  QChartView* m_activity;
  QChartView* m_tls;
  QChartView* m_files;
  QChartView* m_exes;
  bool m_updating = false;
};

}  // namespace aa::view
