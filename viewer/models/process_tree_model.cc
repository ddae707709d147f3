#include "viewer/models/process_tree_model.h"

#include <QColor>

#include "viewer/models/time_axis.h"

namespace aa::view {

ProcessTreeModel::ProcessTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void ProcessTreeModel::setDocument(const SessionDocument* doc) {
  beginResetModel();
  m_doc = doc;
  endResetModel();
}

int ProcessTreeModel::processOf(const QModelIndex& index) {
  return index.isValid() ? int(index.internalId()) : -1;
}

QModelIndex ProcessTreeModel::index(int row, int column, const QModelIndex& parent) const {
  if (!m_doc || row < 0 || column < 0 || column >= ColumnCount) return {};
  if (parent.isValid() && parent.column() != 0) return {};
  const std::vector<int>& list =
      parent.isValid() ? m_doc->processes()[processOf(parent)].children : m_doc->roots();
  if (row >= int(list.size())) return {};
  return createIndex(row, column, quintptr(list[row]));
}

QModelIndex ProcessTreeModel::parent(const QModelIndex& child) const {
  if (!m_doc || !child.isValid()) return {};
  const int parent = m_doc->processes()[processOf(child)].parent;
  if (parent < 0) return {};
  return createIndex(m_doc->processes()[parent].rowInParent, 0, quintptr(parent));
}

int ProcessTreeModel::rowCount(const QModelIndex& parent) const {
  if (!m_doc) return 0;
  if (!parent.isValid()) return int(m_doc->roots().size());
  if (parent.column() != 0) return 0;
  return int(m_doc->processes()[processOf(parent)].children.size());
}

int ProcessTreeModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QModelIndex ProcessTreeModel::indexOfProcess(int process, int column) const {
  if (!m_doc || process < 0 || process >= int(m_doc->processes().size())) return {};
  return createIndex(m_doc->processes()[process].rowInParent, column, quintptr(process));
}

QVariant ProcessTreeModel::data(const QModelIndex& index, int role) const {
  if (!m_doc || !checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  const int p = processOf(index);
  const ProcessInfo& info = m_doc->processes()[p];
  const ProcessRow& r = info.row;
  if (role == ProcessIndexRole) return p;
  if (role == Qt::TextAlignmentRole && index.column() >= PidColumn && index.column() != CommandColumn)
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole && index.column() >= ExecColumn) {
    static const Activity acts[] = {Activity::Exec, Activity::FileRead, Activity::FileWrite,
                                    Activity::FileMeta, Activity::Sent, Activity::Received};
    return activityColor(acts[index.column() - ExecColumn]).darker(120);
  }
  if (role == Qt::ToolTipRole) {
    const QString cmd = m_doc->commandLine(p);
    return cmd.isEmpty() ? info.name : cmd;
  }
  if (role != Qt::DisplayRole) return {};
  auto count = [&](Activity a) { return QVariant(qulonglong(info.activity[int(a)])); };
  switch (index.column()) {
    case NameColumn: return info.name;
    case PidColumn: return r.pid;
    case CommandColumn: return m_doc->commandLine(p);
    case StartColumn: return r.startNs ? QVariant(formatSessionTime(double(*r.startNs), 1e6)) : QVariant();
    case DurationColumn:
      if (r.startNs && r.endNs) return formatDuration(double(*r.endNs - *r.startNs));
      return r.startNs ? QVariant(QStringLiteral("running")) : QVariant();
    case ExitColumn:
      if (r.signal && *r.signal) return QStringLiteral("signal %1").arg(*r.signal);
      return r.exitCode ? QVariant(*r.exitCode) : QVariant();
    case ExecColumn: return count(Activity::Exec);
    case ReadColumn: return count(Activity::FileRead);
    case WriteColumn: return count(Activity::FileWrite);
    case MetaColumn: return count(Activity::FileMeta);
    case SentColumn: return count(Activity::Sent);
    case ReceivedColumn: return count(Activity::Received);
    default: return {};
  }
}

QVariant ProcessTreeModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Process", "PID", "Command line", "Start", "Duration", "Exit",
                                "Exec", "Read", "Write", "Meta", "Sent", "Received"};
  return section >= 0 && section < ColumnCount ? QVariant(QString::fromLatin1(names[section])) : QVariant();
}

}  // namespace aa::view
