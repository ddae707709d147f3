// EventTableModel: the events of the session that pass the current filter, as a flat
// table. It is virtual: rows are described per frame by a RowIndex (a frame whose
// events all pass is one entry; otherwise the passing positions inside it), and cells
// are decoded from the reader on demand. No event is copied into the model.
#pragma once

#include <QAbstractTableModel>
#include <QByteArray>
#include <QCache>
#include <functional>
#include <limits>
#include <vector>

#include "viewer/models/lod.h"
#include "viewer/models/session_document.h"

namespace aa::view {

struct EventFilter {
  ActivityMask activities = kAllActivities;
  std::vector<char> processes;   // by process index; empty: every process
  QByteArray text;               // matched case-insensitively; empty: no text filter
  double fromNs = -std::numeric_limits<double>::infinity();
  double toNs = std::numeric_limits<double>::infinity();

  bool allowsProcess(uint32_t p) const {
    return processes.empty() || (p < processes.size() && processes[p]);
  }
  bool operator==(const EventFilter&) const = default;
};

class RowIndex {
 public:
  // progress(framesDone, framesTotal) may return false to cancel (the index is then empty).
  static RowIndex build(const SessionDocument& doc, const EventFilter& filter,
                        const std::function<bool(size_t, size_t)>& progress = {});
  size_t size() const { return m_prefix.empty() ? 0 : m_prefix.back(); }
  uint64_t seqAt(size_t row) const;
  // The row holding seq, or -1.
  long long rowOfSeq(uint64_t seq) const;
  // Frame of a row, and the row range of part i (for time lookups).
  size_t frameOfRow(size_t row) const;
  // Decoded frames while building (tests check that whole frames were not decoded).
  size_t framesDecoded() const { return m_framesDecoded; }
  // With a text filter: the matching events as marks, for highlighting (capped).
  const std::vector<Mark>& matches() const { return m_matches; }
  static constexpr size_t kMaxMatches = 200'000;

 private:
  struct Part {
    size_t frame = 0;
    uint64_t firstSeq = 0;
    uint32_t count = 0;
    std::vector<uint32_t> local;   // empty: every event of the frame, in order
  };
  size_t partOfRow(size_t row) const;
  std::vector<Part> m_parts;
  std::vector<size_t> m_prefix;    // m_prefix[i]: rows before part i; back(): total
  size_t m_framesDecoded = 0;
  std::vector<Mark> m_matches;
};

class EventTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { TimeColumn, ProcessColumn, KindColumn, SummaryColumn, BytesColumn, ResultColumn, ColumnCount };
  enum Role { SeqRole = Qt::UserRole, TimeRole, ActivityRole, ProcessIndexRole };

  explicit EventTableModel(QObject* parent = nullptr);
  void setDocument(const SessionDocument* doc);
  const SessionDocument* document() const { return m_doc; }
  void setFilter(const EventFilter& filter,
                 const std::function<bool(size_t, size_t)>& progress = {});
  const EventFilter& filter() const { return m_filter; }
  const RowIndex& rows() const { return m_rows; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  void sort(int column, Qt::SortOrder order) override;
  Qt::SortOrder sortOrder() const { return m_descending ? Qt::DescendingOrder : Qt::AscendingOrder; }

  uint64_t seqAtRow(int row) const;
  int rowOfSeq(uint64_t seq) const;   // -1 when filtered out
  // The last row at or before ns (the first row when none), -1 when empty.
  int rowAtTime(double ns) const;

 private:
  struct RowText {
    QString cells[ColumnCount];
    uint64_t seq = 0;
    double ns = 0;
    int activity = 0;
    int process = -1;
  };
  const RowText* rowText(int row) const;
  size_t indexRow(int row) const;

  const SessionDocument* m_doc = nullptr;
  EventFilter m_filter;
  RowIndex m_rows;
  bool m_descending = false;
  mutable QCache<int, RowText> m_cache{512};
};

}  // namespace aa::view
