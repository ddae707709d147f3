// ProcessTreeModel: the session's processes as a tree (parent → children by ppid), with
// command line, pid, lifetime, exit status and per-activity counts from the index.
// The internal id of an index is the process index in SessionDocument::processes().
#pragma once

#include <QAbstractItemModel>

#include "viewer/models/session_document.h"

namespace aa::view {

class ProcessTreeModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  enum Column {
    NameColumn, PidColumn, CommandColumn, StartColumn, DurationColumn, ExitColumn,
    ExecColumn, ReadColumn, WriteColumn, MetaColumn, SentColumn, ReceivedColumn, ColumnCount
  };
  enum Role { ProcessIndexRole = Qt::UserRole };

  explicit ProcessTreeModel(QObject* parent = nullptr);
  void setDocument(const SessionDocument* doc);

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

  QModelIndex indexOfProcess(int process, int column = 0) const;
  static int processOf(const QModelIndex& index);

 private:
  const SessionDocument* m_doc = nullptr;
};

}  // namespace aa::view
