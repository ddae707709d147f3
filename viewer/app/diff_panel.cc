#include "viewer/app/diff_panel.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QVBoxLayout>

namespace aa::view {

DiffPanel::DiffPanel(QWidget* parent)
    : QWidget(parent), m_model(new DiffModel(this)), m_filter(new DiffFilterModel(this)) {
  m_filter->setSourceModel(m_model);
  m_header = new QLabel;
  m_header->setTextFormat(Qt::RichText);
  m_header->setWordWrap(true);
  m_area = new QComboBox;
  m_area->addItem(tr("All areas"), QString());
  for (const char* a : {"exec", "file", "peer", "llm"}) m_area->addItem(QString::fromLatin1(a), QString::fromLatin1(a));
  m_area->setToolTip(tr("Show the differences of one area only"));
  m_text = new QLineEdit;
  m_text->setPlaceholderText(tr("Filter differences"));
  m_text->setClearButtonEnabled(true);
  m_text->setMaximumWidth(240);
  connect(m_area, &QComboBox::currentIndexChanged, this, [this] { m_filter->setArea(m_area->currentData().toString()); });
  connect(m_text, &QLineEdit::textChanged, m_filter, &DiffFilterModel::setText);
  m_view = new QTableView;
  m_view->setModel(m_filter);
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
  m_detail->setTextFormat(Qt::RichText);
  m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
  connect(m_detail, &QLabel::linkActivated, this, [this](const QString& link) {
    // "aa:cause/A/N" or "aa:cause/B/N"
    const QStringList parts = link.split(QLatin1Char('/'));
    if (parts.size() != 3 || parts[0] != QStringLiteral("aa:cause")) return;
    emit causeSelected(parts[1] == QStringLiteral("B") ? DiffSide::B : DiffSide::A, parts[2].toInt());
  });
  m_detail->setStyleSheet(QStringLiteral("color:#333"));
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(4, 2, 4, 2);
  lay->setSpacing(2);
  auto* top = new QHBoxLayout;
  top->addWidget(m_header, 1);
  top->addWidget(m_area);
  top->addWidget(m_text);
  lay->addLayout(top);
  lay->addWidget(m_view, 1);
  lay->addWidget(m_detail);
  connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& cur) {
            const int row = cur.isValid() ? m_filter->mapToSource(cur).row() : -1;
            const diff::Difference* d = m_model->difference(row);
            QString text = d ? diffDescription(*d).toHtmlEscaped() : QString();
            for (DiffSide side : {DiffSide::A, DiffSide::B})
              if (auto call = m_model->causeCall(row, side))
                text += tr(" &nbsp;<a href='aa:cause/%1/%2'>LLM call %3 of run %1</a>")
                            .arg(side == DiffSide::A ? QStringLiteral("A") : QStringLiteral("B"))
                            .arg(*call).arg(*call + 1);
            m_detail->setText(text);
            if (d) emit differenceSelected(row);
          });
  clear();
}

QString DiffPanel::headerText() const { return m_header->text(); }

QString DiffPanel::detailText() const { return m_detail->text(); }

void DiffPanel::setMessage(const QString& text, bool error) {
  m_model->clear();
  m_area->setEnabled(false);
  m_text->setEnabled(false);
  m_detail->clear();
  m_header->setText(error ? QStringLiteral("<span style='color:#c0392b'><b>%1</b></span>").arg(text.toHtmlEscaped())
                          : text.toHtmlEscaped());
}

void DiffPanel::setResult(const QString& pathA, const QString& pathB, diff::SessionDiff d,
                          std::vector<DiffModel::Causes> causes, const QString& warning) {
  m_model->setDiff(std::move(d), std::move(causes));
  m_area->setEnabled(true);
  m_text->setEnabled(true);
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

void DiffPanel::setAreaFilter(const QString& area) {
  const int i = m_area->findData(area);
  if (i >= 0) m_area->setCurrentIndex(i);
}

void DiffPanel::setTextFilter(const QString& text) { m_text->setText(text); }

void DiffPanel::selectRow(int row) {
  if (row < 0 || row >= m_model->rowCount()) return;
  QModelIndex i = m_filter->mapFromSource(m_model->index(row, 0));
  if (!i.isValid()) {   // hidden by the filters
    setAreaFilter(QString());
    setTextFilter(QString());
    i = m_filter->mapFromSource(m_model->index(row, 0));
  }
  if (currentRow() == row) {
    emit differenceSelected(row);   // again: the user may have moved the timelines since
    return;
  }
  m_view->setCurrentIndex(i);
  m_view->scrollTo(i);
}

int DiffPanel::currentRow() const {
  const QModelIndex i = m_view->currentIndex();
  return i.isValid() ? m_filter->mapToSource(i).row() : -1;
}

}  // namespace aa::view
