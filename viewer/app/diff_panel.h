// DiffPanel: the "Differences" dock. A line naming the two runs and store/diff's
// summary, the list of differences (DiffModel), and the selected difference in full.
// Selecting a row emits differenceSelected(row); the main window moves both timelines.
#pragma once

#include <QWidget>

#include "viewer/models/diff_model.h"

class QLabel;
class QTableView;

namespace aa::view {

class DiffPanel : public QWidget {
  Q_OBJECT

 public:
  explicit DiffPanel(QWidget* parent = nullptr);

  DiffModel* model() const { return m_model; }
  QTableView* view() const { return m_view; }
  QString headerText() const;

  // A message instead of a list: "comparing…", or an error (shown in red).
  void setMessage(const QString& text, bool error = false);
  // The runs' names, the differences and any damage warning.
  void setResult(const QString& pathA, const QString& pathB, diff::SessionDiff d,
                 const QString& warning);
  void clear();
  void selectRow(int row);
  int currentRow() const;

 signals:
  void differenceSelected(int row);

 private:
  DiffModel* m_model;
  QTableView* m_view;
  QLabel* m_header;
  QLabel* m_detail;
};

}  // namespace aa::view
