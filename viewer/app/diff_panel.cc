#include "viewer/app/diff_panel.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace aa::view {

DiffPanel::DiffPanel(QWidget* parent) : QWidget(parent), m_model(new DiffModel(this)) {
  m_header = new QLabel;
  m_header->setTextFormat(Qt::RichText);
  m_header->setWordWrap(true);
  m_view = new QTableView;
  m_view->setModel(m_model);
  m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_view->setSelectionMode(QAbstractItemView::SingleSelection);
  m_view->verticalHeader()->hide();
  m_view->verticalHeader()->setDefaultSectionSize(20);
  m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  m_view->setWordWrap(false);
  m_view->setColumnWidth(DiffModel::ChangeColumn, 24);
  m_view->setColumnWidth(DiffModel::AreaColumn, 44);
  m_view->setColumnWidth(DiffModel::SubjectColumn, 330);
  m_view->setColumnWidth(DiffModel::AColumn, 260);
  m_view->setColumnWidth(DiffModel::BColumn, 260);
  m_view->horizontalHeader()->setStretchLastSection(true);
  m_detail = new QLabel;
  m_detail->setWordWrap(true);
  m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_detail->setStyleSheet(QStringLiteral("color:#333"));
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 2, 4, 2);
  lay->setSpacing(2);
  lay->addWidget(m_header);
  lay->addWidget(m_view, 1);
  lay->addWidget(m_detail);
  connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& cur) {
            const diff::Difference* d = cur.isValid() ? m_model->difference(cur.row()) : nullptr;
            m_detail->setText(d ? diffDescription(*d) : QString());
            if (d) emit differenceSelected(cur.row());
          });
  clear();
}

QString DiffPanel::headerText() const { return m_header->text(); }

void DiffPanel::setMessage(const QString& text, bool error) {
  m_model->clear();
  m_detail->clear();
  m_header->setText(error ? QStringLiteral("<span style='color:#c0392b'><b>%1</b></span>").arg(text.toHtmlEscaped())
                          : text.toHtmlEscaped());
}

void DiffPanel::setResult(const QString& pathA, const QString& pathB, diff::SessionDiff d,
                          const QString& warning) {
  m_model->setDiff(std::move(d));
  m_detail->clear();
  QString h = tr("<b>A</b> %1 &nbsp;vs&nbsp; <b>B</b> %2: %3")
                  .arg(QFileInfo(pathA).fileName().toHtmlEscaped(), QFileInfo(pathB).fileName().toHtmlEscaped(),
                       m_model->summaryText().toHtmlEscaped());
  if (!warning.isEmpty())
    h += QStringLiteral("<br><span style='color:#c0392b'>%1</span>").arg(warning.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>")));
  m_header->setText(h);
}

void DiffPanel::clear() {
  setMessage(tr("No comparison. File ▸ Compare With… (Ctrl+D) opens a second run to diff against this one."));
}

void DiffPanel::selectRow(int row) {
  if (row < 0 || row >= m_model->rowCount()) return;
  const QModelIndex i = m_model->index(row, 0);
  if (m_view->currentIndex().row() == row) {
    emit differenceSelected(row);   // again: the user may have moved the timelines since
    return;
  }
  m_view->setCurrentIndex(i);
  m_view->scrollTo(i);
}

int DiffPanel::currentRow() const {
  const QModelIndex i = m_view->currentIndex();
  return i.isValid() ? i.row() : -1;
}

}  // namespace aa::view
