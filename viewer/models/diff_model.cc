#include "viewer/models/diff_model.h"

#include <QBrush>
#include <QColor>
#include <algorithm>

#include "viewer/models/session_document.h"

namespace aa::view {

namespace {

QString fromStd(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

// Table cells are one line: values may hold newlines (an answer, a system prompt).
QString oneLine(const std::string& s) {
  QString t = fromStd(s);
  for (QChar& c : t)
    if (c.unicode() < 0x20) c = QLatin1Char(' ');
  return t;
}

QString causeText(const diff::Difference& d) {
  if (d.change == "removed") return fromStd(d.causeA);
  if (d.change == "added") return fromStd(d.causeB);
  if (d.causeA == d.causeB || d.causeA.empty()) return fromStd(d.causeB);
  if (d.causeB.empty()) return QStringLiteral("A: ") + fromStd(d.causeA);
  return QStringLiteral("A: %1; B: %2").arg(fromStd(d.causeA), fromStd(d.causeB));
}

QString subjectText(const diff::Difference& d) {
  if (d.area == "llm") {
    if (d.change == "changed" && d.callA && d.callB)
      return QStringLiteral("call %1 / %2: %3").arg(*d.callA).arg(*d.callB).arg(fromStd(d.field));
    return fromStd(d.subject) + (d.change == "added" ? QStringLiteral(" (B)") : QStringLiteral(" (A)"));
  }
  QString s = oneLine(d.subject);
  if (d.change == "changed" && d.area == "exec") s += QStringLiteral(": ") + fromStd(d.field);
  return s;
}

}  // namespace

DiffTarget diffTarget(const diff::Difference& d, DiffSide side) {
  DiffTarget t;
  const bool a = side == DiffSide::A;
  if (d.area == "llm") {
    // For llm differences store/diff puts the call's start time where seqs would be.
    t.call = a ? d.callA : d.callB;
    const auto& starts = a ? d.seqsA : d.seqsB;
    if (t.call && !starts.empty()) t.callStartMonoNs = starts.front();
    return t;
  }
  t.seqs = a ? d.seqsA : d.seqsB;
  return t;
}

std::optional<std::pair<double, double>> targetSpan(const SessionDocument& doc, const DiffTarget& t) {
  std::optional<std::pair<double, double>> span;
  auto add = [&](double ns) {
    if (!span) span.emplace(ns, ns);
    span->first = std::min(span->first, ns);
    span->second = std::max(span->second, ns);
  };
  if (t.call) {
    if (auto data = doc.traffic()) {
      for (const LlmSpan& s : data->spans)
        if (s.call == int(*t.call)) {
          add(s.fromNs);
          add(s.toNs);
        }
    }
    if (!span && t.callStartMonoNs) add(double(doc.relNs(*t.callStartMonoNs)));
    return span;
  }
  // Seqs are in order and times follow them closely: the ends bound the span; a few in
  // between catch the rest without reading thousands of events.
  const size_t n = t.seqs.size(), step = std::max<size_t>(1, n / 64);
  for (size_t i = 0; i < n; i += step)
    doc.withEvent(t.seqs[i], [&](schema::Event::Reader e) { add(double(doc.relNs(e.getTNs()))); });
  if (n > 1) doc.withEvent(t.seqs.back(), [&](schema::Event::Reader e) { add(double(doc.relNs(e.getTNs()))); });
  return span;
}

QString diffChangeMark(const diff::Difference& d) {
  if (d.change == "added") return QStringLiteral("+");
  if (d.change == "removed") return QStringLiteral("−");
  return QStringLiteral("~");
}

QString diffDescription(const diff::Difference& d) {
  // Worded by store/diff itself: its text rendering of this one difference.
  diff::SessionDiff one;
  one.differences.push_back(d);
  const std::string text = diff::diffText(one);
  return fromStd(text.substr(0, text.find('\n')));
}

DiffModel::DiffModel(QObject* parent) : QAbstractTableModel(parent) {}

void DiffModel::setDiff(diff::SessionDiff d, std::vector<Causes> causes) {
  beginResetModel();
  m_diff = std::move(d);
  m_causes = std::move(causes);
  m_causes.resize(m_diff.differences.size());
  endResetModel();
}

std::optional<size_t> DiffModel::causeCall(int row, DiffSide side) const {
  if (row < 0 || size_t(row) >= m_causes.size()) return std::nullopt;
  return side == DiffSide::A ? m_causes[size_t(row)].callA : m_causes[size_t(row)].callB;
}

void DiffModel::clear() { setDiff({}); }

const diff::Difference* DiffModel::difference(int row) const {
  if (row < 0 || size_t(row) >= m_diff.differences.size()) return nullptr;
  return &m_diff.differences[size_t(row)];
}

QString DiffModel::summaryText() const {
  // store/diff's summary line: the last line of its text rendering.
  std::string text = diff::diffText(m_diff);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return fromStd(text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1));
}

int DiffModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(m_diff.differences.size());
}

int DiffModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant DiffModel::data(const QModelIndex& index, int role) const {
  const diff::Difference* d = index.isValid() ? difference(index.row()) : nullptr;
  if (!d || index.column() < 0 || index.column() >= ColumnCount) return {};
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case ChangeColumn: return diffChangeMark(*d);
        case AreaColumn: return fromStd(d->area);
        case SubjectColumn: return subjectText(*d);
        case AColumn: return oneLine(d->a);
        case BColumn: return oneLine(d->b);
        case CauseColumn: return causeText(*d);
      }
      return {};
    case Qt::ToolTipRole: return diffDescription(*d);
    case Qt::ForegroundRole:
      if (index.column() != ChangeColumn) return {};
      return QBrush(d->change == "added"     ? QColor(0x1e, 0x84, 0x49)
                    : d->change == "removed" ? QColor(0xc0, 0x39, 0x2b)
                                             : QColor(0xb9, 0x77, 0x0e));
    case Qt::TextAlignmentRole:
      if (index.column() == ChangeColumn) return int(Qt::AlignCenter);
      return {};
    case AreaRole: return fromStd(d->area);
    case ChangeRole: return fromStd(d->change);
  }
  return {};
}

QVariant DiffModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case ChangeColumn: return QString();
    case AreaColumn: return tr("Area");
    case SubjectColumn: return tr("What");
    case AColumn: return tr("In A");
    case BColumn: return tr("In B");
    case CauseColumn: return tr("Caused by");
  }
  return {};
}

DiffFilterModel::DiffFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {}

void DiffFilterModel::setArea(const QString& area) {
  if (area == m_area) return;
  m_area = area;
  invalidateFilter();
}

void DiffFilterModel::setText(const QString& text) {
  if (text == m_text) return;
  m_text = text;
  invalidateFilter();
}

int DiffFilterModel::sourceRow(int row) const {
  if (row < 0 || row >= rowCount()) return -1;
  return mapToSource(index(row, 0)).row();
}

bool DiffFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
  const QAbstractItemModel* m = sourceModel();
  if (!m) return false;
  if (!m_area.isEmpty() && m->index(sourceRow, 0, sourceParent).data(DiffModel::AreaRole).toString() != m_area)
    return false;
  if (m_text.isEmpty()) return true;
  for (int c = 0; c < m->columnCount(sourceParent); ++c)
    if (m->index(sourceRow, c, sourceParent).data().toString().contains(m_text, Qt::CaseInsensitive))
      return true;
  return false;
}

}  // namespace aa::view
