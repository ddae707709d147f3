#include "viewer/models/event_table_model.h"

#include <QColor>
#include <algorithm>

#include "viewer/models/event_format.h"

namespace aa::view {

namespace {

// Kinds whose activity does not depend on the event itself.
bool frameAllPass(const FrameSpan& f, const EventFilter& filter) {
  if (!filter.text.isEmpty()) return false;
  if (double(f.fromNs) < filter.fromNs || double(f.toNs) > filter.toNs) return false;
  for (uint32_t p : f.processes)
    if (!filter.allowsProcess(p)) return false;
  const bool bothFileDirections = (filter.activities & activityBit(Activity::FileRead)) &&
                                  (filter.activities & activityBit(Activity::FileWrite));
  for (int k = 0; k < kKindCount; ++k) {
    if (!f.kindCounts[k]) continue;
    const Kind kind = static_cast<Kind>(k);
    if ((kind == Kind::kFileOpen || kind == Kind::kFileClose)) {
      if (!bothFileDirections) return false;
      continue;
    }
    if (!(filter.activities & activityBit(activityOfKind(kind)))) return false;
  }
  return true;
}

bool frameMayPass(const FrameSpan& f, const EventFilter& filter) {
  if (double(f.toNs) < filter.fromNs || double(f.fromNs) > filter.toNs) return false;
  if (!(f.kinds & kindsOf(filter.activities))) return false;
  if (filter.processes.empty()) return true;
  return std::any_of(f.processes.begin(), f.processes.end(),
                     [&](uint32_t p) { return filter.allowsProcess(p); });
}

}  // namespace

RowIndex RowIndex::build(const SessionDocument& doc, const EventFilter& filter,
                         const std::function<bool(size_t, size_t)>& progress) {
  RowIndex idx;
  const auto& frames = doc.frames();
  size_t rows = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (progress && (i & 63) == 0 && !progress(i, frames.size())) return RowIndex();
    const FrameSpan& f = frames[i];
    if (!frameMayPass(f, filter)) continue;
    Part part;
    part.frame = i;
    part.firstSeq = f.firstSeq;
    if (frameAllPass(f, filter)) {
      part.count = f.count;
    } else {
      ++idx.m_framesDecoded;
      doc.withFrame(i, [&](capnp::List<schema::Event>::Reader events) {
        uint32_t j = 0;
        for (auto e : events) {
          const uint32_t at = j++;
          const double ns = double(doc.relNs(e.getTNs()));
          if (ns < filter.fromNs || ns > filter.toNs) continue;
          if (!(filter.activities & activityBit(activityOf(e)))) continue;
          const int p = doc.processIndex(e.getPid());
          if (!filter.processes.empty() && (p < 0 || !filter.allowsProcess(uint32_t(p)))) continue;
          if (!filter.text.isEmpty() && !eventMatchesText(e, filter.text)) continue;
          part.local.push_back(at);
          if (!filter.text.isEmpty() && idx.m_matches.size() < kMaxMatches)
            idx.m_matches.push_back(Mark{uint64_t(ns), uint32_t(p), at, activityOf(e)});
        }
      });
      part.count = uint32_t(part.local.size());
      if (part.count == 0) continue;
      // Every event passed after all: keep the compact form.
      if (part.count == f.count) part.local.clear();
    }
    idx.m_prefix.push_back(rows);
    rows += part.count;
    idx.m_parts.push_back(std::move(part));
  }
  idx.m_prefix.push_back(rows);
  return idx;
}

size_t RowIndex::partOfRow(size_t row) const {
  auto it = std::upper_bound(m_prefix.begin(), m_prefix.end() - 1, row);
  return size_t(it - m_prefix.begin()) - 1;
}

uint64_t RowIndex::seqAt(size_t row) const {
  const size_t p = partOfRow(row);
  const Part& part = m_parts[p];
  const size_t local = row - m_prefix[p];
  return part.firstSeq + (part.local.empty() ? local : part.local[local]);
}

size_t RowIndex::frameOfRow(size_t row) const { return m_parts[partOfRow(row)].frame; }

long long RowIndex::rowOfSeq(uint64_t seq) const {
  // Parts are in sequence order: find the last part starting at or before seq.
  auto it = std::upper_bound(m_parts.begin(), m_parts.end(), seq,
                             [](uint64_t s, const Part& p) { return s < p.firstSeq; });
  if (it == m_parts.begin()) return -1;
  --it;
  const size_t p = size_t(it - m_parts.begin());
  const uint64_t local = seq - it->firstSeq;
  if (it->local.empty()) return local < it->count ? (long long)(m_prefix[p] + local) : -1;
  auto l = std::lower_bound(it->local.begin(), it->local.end(), uint32_t(local));
  if (l == it->local.end() || *l != local) return -1;
  return (long long)(m_prefix[p] + size_t(l - it->local.begin()));
}

// ---------------------------------------------------------------------------------

EventTableModel::EventTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void EventTableModel::setDocument(const SessionDocument* doc) {
  beginResetModel();
  m_doc = doc;
  m_cache.clear();
  m_rows = doc ? RowIndex::build(*doc, m_filter) : RowIndex();
  endResetModel();
}

void EventTableModel::setFilter(const EventFilter& filter,
                                const std::function<bool(size_t, size_t)>& progress) {
  beginResetModel();
  m_filter = filter;
  m_cache.clear();
  m_rows = m_doc ? RowIndex::build(*m_doc, m_filter, progress) : RowIndex();
  endResetModel();
}

int EventTableModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid()) return 0;
  return int(std::min<size_t>(m_rows.size(), size_t(std::numeric_limits<int>::max())));
}

int EventTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

size_t EventTableModel::indexRow(int row) const {
  return m_descending ? m_rows.size() - 1 - size_t(row) : size_t(row);
}

uint64_t EventTableModel::seqAtRow(int row) const { return m_rows.seqAt(indexRow(row)); }

int EventTableModel::rowOfSeq(uint64_t seq) const {
  const long long r = m_rows.rowOfSeq(seq);
  if (r < 0) return -1;
  return m_descending ? int(m_rows.size() - 1 - size_t(r)) : int(r);
}

int EventTableModel::rowAtTime(double ns) const {
  if (!m_doc || m_rows.size() == 0) return -1;
  // Rows are in sequence order, which is time order up to small per-CPU skew: binary
  // search on the row's time is good enough to land the cursor.
  size_t lo = 0, hi = m_rows.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    double t = 0;
    m_doc->withEvent(m_rows.seqAt(mid), [&](schema::Event::Reader e) { t = double(m_doc->relNs(e.getTNs())); });
    if (t <= ns) lo = mid + 1; else hi = mid;
  }
  const size_t r = lo == 0 ? 0 : lo - 1;
  return m_descending ? int(m_rows.size() - 1 - r) : int(r);
}

const EventTableModel::RowText* EventTableModel::rowText(int row) const {
  if (RowText* t = m_cache.object(row)) return t;
  if (!m_doc || row < 0 || size_t(row) >= m_rows.size()) return nullptr;
  auto* t = new RowText;
  t->seq = seqAtRow(row);
  const bool ok = m_doc->withEvent(t->seq, [&](schema::Event::Reader e) {
    t->ns = double(m_doc->relNs(e.getTNs()));
    t->activity = int(activityOf(e));
    t->process = m_doc->processIndex(e.getPid());
    t->cells[TimeColumn] = formatSessionTime(t->ns, 1e3);
    const QString name = t->process >= 0 ? m_doc->processes()[t->process].name : displayText(e.getComm());
    t->cells[ProcessColumn] = QStringLiteral("%1 (%2)").arg(name).arg(e.getPid());
    const auto kn = kindName(kindOf(e));
    t->cells[KindColumn] = QString::fromUtf8(kn.data(), qsizetype(kn.size()));
    t->cells[SummaryColumn] = eventSummary(e);
    const int64_t bytes = eventBytes(e);
    t->cells[BytesColumn] = bytes >= 0 ? QString::number(bytes) : QString();
    t->cells[ResultColumn] = eventResult(e);
  });
  if (!ok) t->cells[SummaryColumn] = QStringLiteral("(unreadable event %1)").arg(t->seq);
  m_cache.insert(row, t);
  return t;
}

QVariant EventTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
    return {};
  const RowText* t = rowText(index.row());
  if (!t) return {};
  switch (role) {
    case Qt::DisplayRole: return t->cells[index.column()];
    case Qt::ToolTipRole:
      return index.column() == SummaryColumn ? QVariant(t->cells[SummaryColumn]) : QVariant();
    case Qt::DecorationRole:
      return index.column() == KindColumn ? QVariant(activityColor(Activity(t->activity)))
                                          : QVariant();
    case Qt::TextAlignmentRole:
      return index.column() == BytesColumn ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
                                           : QVariant();
    case SeqRole: return QVariant::fromValue<qulonglong>(t->seq);
    case TimeRole: return t->ns;
    case ActivityRole: return t->activity;
    case ProcessIndexRole: return t->process;
    default: return {};
  }
}

QVariant EventTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Time", "Process", "Kind", "Path / summary", "Bytes", "Result"};
  return section >= 0 && section < ColumnCount ? QVariant(QString::fromLatin1(names[section])) : QVariant();
}

void EventTableModel::sort(int column, Qt::SortOrder order) {
  // Only time order is meaningful for a virtual model over a log in time order; other
  // columns keep it.
  if (column != TimeColumn) return;
  const bool desc = order == Qt::DescendingOrder;
  if (desc == m_descending) return;
  emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
  const QModelIndexList before = persistentIndexList();
  m_descending = desc;
  QModelIndexList after;
  const int n = rowCount();
  for (const QModelIndex& i : before) after << index(n - 1 - i.row(), i.column());
  changePersistentIndexList(before, after);
  m_cache.clear();
  emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

}  // namespace aa::view
