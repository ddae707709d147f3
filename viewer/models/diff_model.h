// DiffModel: the differences between two runs (store/diff's SessionDiff, the same list
// `aa-session diff` prints) as a table, one row per difference in the library's order
// (exec, file, peer, llm). It maps from diff::Difference to display text and from a row
// to what it points at in each run (DiffTarget), so selecting a row can move both
// timelines; the comparison itself is store/diff's, never redone here.
#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <optional>
#include <utility>
#include <vector>

#include "store/diff/session_diff.h"

namespace aa::view {

enum class DiffSide { A, B };

// What a difference points at in one run: the events behind it (exec, file, peer), or
// an LLM call (its index in Traffic::calls, as `aa-session llm` numbers calls). Empty on
// the side that lacks the item (an exec only in B has nothing in A).
struct DiffTarget {
  std::vector<uint64_t> seqs;     // in seq order
  std::optional<size_t> call;
  std::optional<uint64_t> callStartMonoNs;   // the call's start, known before traffic loads
  bool empty() const { return seqs.empty() && !call; }
};

DiffTarget diffTarget(const diff::Difference& d, DiffSide side);

class SessionDocument;
// Where the target lies in doc's session time: from the first to the last of its events
// (at most 64 of them read), or the call's span (its start alone before the traffic is
// loaded); nullopt when nothing of it can be read.
std::optional<std::pair<double, double>> targetSpan(const SessionDocument& doc, const DiffTarget& t);

// "+" only in B, "−" only in A, "~" changed.
QString diffChangeMark(const diff::Difference& d);
// One line for the difference, as `aa-session diff` words it, for tooltips and the
// dock's detail line.
QString diffDescription(const diff::Difference& d);

class DiffModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { ChangeColumn, AreaColumn, SubjectColumn, AColumn, BColumn, CauseColumn, ColumnCount };
  enum Role { AreaRole = Qt::UserRole + 1, ChangeRole };

  explicit DiffModel(QObject* parent = nullptr);

  // `causes[i]`: the LLM calls (as `aa-session llm` numbers them) in A and in B that
  // difference i followed from (store/diff's causeCallOf); may be empty.
  struct Causes {
    std::optional<size_t> callA, callB;
  };
  void setDiff(diff::SessionDiff d, std::vector<Causes> causes = {});
  void clear();
  // The call behind row's item in that run, when cause and effect attributes it.
  std::optional<size_t> causeCall(int row, DiffSide side) const;
  const diff::SessionDiff& sessionDiff() const { return m_diff; }
  // nullptr when row is out of range.
  const diff::Difference* difference(int row) const;
  // "12 differences: exec 1, file 3, peer 0, llm 8" or "no differences (…)".
  QString summaryText() const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;

 private:
  diff::SessionDiff m_diff;
  std::vector<Causes> m_causes;
};

// The list narrowed to one area ("exec", "file", "peer", "llm"; "" for all) and to rows
// whose cells contain a text (case-insensitive), over a DiffModel. A real diff can have
// thousands of rows (two 200k-event sessions: ~3 000).
class DiffFilterModel : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit DiffFilterModel(QObject* parent = nullptr);
  void setArea(const QString& area);
  void setText(const QString& text);
  QString area() const { return m_area; }
  // The DiffModel row of proxy row `row`, -1 when out of range.
  int sourceRow(int row) const;

 protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

 private:
  QString m_area, m_text;
};

}  // namespace aa::view
