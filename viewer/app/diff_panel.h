// DiffPanel: the "Differences" dock. A line naming the two runs and store/diff's
// summary, an area choice and a text filter, the list of differences (DiffModel through
// DiffFilterModel), and the selected difference in full. Selecting a row emits
// differenceSelected(row) with the DiffModel row; the main window moves both timelines.
// Rows are DiffModel rows throughout, whatever the filter shows.
#pragma once

#include <QWidget>

#include "viewer/models/diff_model.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace aa::view {

class DiffPanel : public QWidget {
  Q_OBJECT

 public:
  explicit DiffPanel(QWidget* parent = nullptr);

  DiffModel* model() const { return m_model; }
  DiffFilterModel* filterModel() const { return m_filter; }
  QTableView* view() const { return m_view; }
  // "" for every area, else "exec", "file", "peer" or "llm"; and a text to look for.
  void setAreaFilter(const QString& area);
  void setTextFilter(const QString& text);
  QString headerText() const;

  // A message instead of a list: "comparing…", or an error (shown in red).
  void setMessage(const QString& text, bool error = false);
  // The runs' names, the differences and any damage warning.
  void setResult(const QString& pathA, const QString& pathB, diff::SessionDiff d,
                 std::vector<DiffModel::Causes> causes, const QString& warning);
  QString detailText() const;   // the selected difference in full, with its cause links
  void clear();
  // Selects DiffModel row `row` (clearing the filters when they hide it).
  void selectRow(int row);
  int currentRow() const;   // the DiffModel row, -1 for none

 signals:
  void differenceSelected(int row);
  // The cause link of the selected difference: LLM call `call` of run `side`.
  void causeSelected(aa::view::DiffSide side, int call);

 private:
  DiffModel* m_model;
  DiffFilterModel* m_filter;
  QComboBox* m_area;
  QLineEdit* m_text;
  QTableView* m_view;
  QLabel* m_header;
  QLabel* m_detail;
};

}  // namespace aa::view
