#include "viewer/app/run_panel.h"

#include <QFileInfo>
#include <QLabel>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <utility>

#include "viewer/app/timeline_view.h"
#include "viewer/models/details_html.h"
#include "viewer/models/traffic_view.h"

namespace aa::view {

RunPanel::RunPanel(QWidget* parent) : QWidget(parent) {
  m_header = new QLabel;
  m_header->setTextFormat(Qt::RichText);
  m_timeline = new TimelineView;
  m_details = new QTextBrowser;
  m_details->setOpenLinks(false);
  m_details->setPlaceholderText(tr("Select a difference, or an event of run B."));
  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(m_timeline);
  split->addWidget(m_details);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(0, 0, 0, 0);
  lay->setSpacing(1);
  lay->addWidget(m_header);
  lay->addWidget(split, 1);

  connect(m_timeline, &TimelineView::eventClicked, this, [this](qulonglong seq) { selectEvent(seq, false); });
  connect(m_timeline, &TimelineView::llmCallClicked, this, [this](int call) { selectLlmCall(call, false); });
  connect(m_details, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
    const QString s = url.toString();
    if (s.startsWith(QStringLiteral("aa:event/"))) selectEvent(s.mid(9).toULongLong(), true);
    else if (s.startsWith(QStringLiteral("aa:call/"))) selectLlmCall(s.mid(8).toInt(), true);
    else if (s.startsWith(QStringLiteral("aa:exchange/")) && m_doc) {
      auto data = m_doc->traffic();
      const int x = s.mid(12).toInt();
      if (data && x >= 0 && size_t(x) < data->traffic.exchanges.size())
        m_details->setHtml(exchangeHtml(data->traffic, size_t(x), m_doc->header().startMonoNs));
    }
  });
  updateHeader();
}

RunPanel::~RunPanel() { m_timeline->setDocument(nullptr); }

void RunPanel::setDocument(SessionDocument* doc) {
  if (m_doc) disconnect(m_doc, nullptr, this, nullptr);
  m_pendingCall.reset();
  m_details->clear();
  m_timeline->setDocument(nullptr);
  m_doc = doc;
  if (m_doc) {
    m_timeline->setDocument(m_doc);
    connect(m_doc, &SessionDocument::summaryReady, this, [this] { updateHeader(); });
    connect(m_doc, &SessionDocument::trafficReady, this, [this] {
      updateHeader();
      if (m_pendingCall) selectLlmCall(*std::exchange(m_pendingCall, std::nullopt), true);
    });
    m_doc->startSummary();
  }
  updateHeader();
}

void RunPanel::updateHeader() {
  if (!m_doc) {
    m_header->setText(tr("<b>Run B</b>: none"));
    return;
  }
  QString text = tr("<b>Run B</b> %1 · %2 events · %3 processes")
                     .arg(QFileInfo(m_doc->path()).fileName().toHtmlEscaped())
                     .arg(m_doc->eventCount())
                     .arg(m_doc->processes().size());
  if (auto data = m_doc->traffic(); data && data->error.isEmpty())
    text += tr(" · %1 LLM calls").arg(data->traffic.calls.size());
  if (!m_doc->damage().ok())
    text += QStringLiteral(" · <span style='color:#c0392b'><b>damaged:</b> %1</span>")
                .arg(QString::fromStdString(m_doc->damage().message()).toHtmlEscaped());
  m_header->setText(text);
}

void RunPanel::reveal(const DiffTarget& target) {
  if (!m_doc) return;
  const auto span = targetSpan(*m_doc, target);
  if (!span) return;
  const TimeAxis& axis = m_timeline->axis();
  const auto [from, to] = revealRange(axis.from(), axis.to(), span->first, span->second,
                                      double(m_doc->durationNs()));
  if (from != axis.from() || to != axis.to()) m_timeline->setRange(from, to);
}

void RunPanel::showTarget(const DiffTarget& target, const QString& absent) {
  if (!m_doc) return;
  m_pendingCall.reset();
  if (target.empty()) {
    m_timeline->setSelectedEvent(std::nullopt);
    m_timeline->setSelectedCall(-1);
    m_details->setHtml(QStringLiteral("<p style='color:#555'>%1</p>").arg(absent.toHtmlEscaped()));
    return;
  }
  if (target.call) {
    selectLlmCall(int(*target.call), false);
  } else {
    selectEvent(target.seqs.front(), false);
  }
  reveal(target);
}

void RunPanel::selectEvent(uint64_t seq, bool revealIt) {
  if (!m_doc) return;
  const auto d = eventDetails(*m_doc, seq);
  if (!d) return;
  m_details->setHtml(d->html);
  m_timeline->setSelectedEvent(seq, d->ns, d->process);
  m_timeline->setSelectedCall(d->call);
  if (revealIt) reveal(DiffTarget{{seq}, {}, {}});
}

void RunPanel::selectLlmCall(int call, bool revealIt) {
  if (!m_doc || call < 0) return;
  auto data = m_doc->traffic();
  if (!data) {
    // Run B's traffic is analysed after its summary: show the call once it is.
    m_pendingCall = call;
    m_details->setHtml(tr("<p style='color:#555'>LLM call %1 of run B: analysing its traffic…</p>").arg(call + 1));
    return;
  }
  if (size_t(call) >= data->traffic.calls.size()) return;
  m_details->setHtml(llmCallDetailsHtml(*m_doc, size_t(call)));
  m_timeline->setSelectedEvent(std::nullopt);
  m_timeline->setSelectedCall(call);
  if (revealIt) reveal(DiffTarget{{}, size_t(call), {}});
}

}  // namespace aa::view
