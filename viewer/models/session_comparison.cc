#include "viewer/models/session_comparison.h"

#include <QStringList>
#include <QThread>
#include <chrono>

namespace aa::view {

namespace {

// A message that names the file, as `aa-session` prints it.
Status naming(const QString& path, const Status& s) {
  const std::string p = path.toStdString();
  if (s.message().starts_with(p + ":") || s.message().starts_with(p + " ")) return s;
  return Status::error(p + ": " + s.message());
}

}  // namespace

SessionComparison::SessionComparison(QString pathA, QString pathB, diff::DiffOptions options,
                                     QObject* parent)
    : QObject(parent), m_pathA(std::move(pathA)), m_pathB(std::move(pathB)),
      m_options(std::move(options)) {}

SessionComparison::~SessionComparison() {
  if (m_worker.joinable()) m_worker.join();
}

void SessionComparison::start() {
  if (m_worker.joinable() || m_done) return;
  m_worker = std::thread([this, owner = thread()] {
    run();
    if (m_docB) m_docB->moveToThread(owner);
    m_done = true;
    QMetaObject::invokeMethod(this, &SessionComparison::finished, Qt::QueuedConnection);
  });
}

bool SessionComparison::waitForDone(int timeoutMs) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!m_done.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void SessionComparison::run() {
  if (Status s = diff::validateIgnores(m_options.ignore); !s.ok()) {
    m_status = s;
    return;
  }
  // B first: it is the file most likely to be wrong, and the one the window shows.
  auto doc = SessionDocument::open(m_pathB);
  if (!doc.ok()) {
    m_status = naming(m_pathB, doc.status());
    return;
  }
  // The document's reader belongs to the GUI thread once it is handed over: the
  // comparison reads each run through readers of its own.
  diff::RunSummary runs[2];
  QStringList warnings;
  const QString paths[2] = {m_pathA, m_pathB};
  for (int k = 0; k < 2; ++k) {
    auto reader = SessionReader::open(paths[k].toStdString());
    if (!reader.ok()) {
      m_status = naming(paths[k], reader.status());
      return;
    }
    auto summary = diff::summarizeRun(*reader.value(), m_options);
    if (!summary.ok()) {
      m_status = naming(paths[k], summary.status());
      return;
    }
    if (!reader.value()->damage().ok())
      warnings << QString::fromStdString(naming(paths[k], reader.value()->damage()).message()) +
                      QStringLiteral(" (compared up to the damage)");
    runs[k] = std::move(summary.value());
  }
  m_diff = diff::diffRuns(runs[0], runs[1], m_options);
  for (const diff::Difference& d : m_diff.differences) {
    DiffModel::Causes c;
    if (d.area != "llm") {
      if (auto x = diff::causeCallOf(runs[0], d.seqsA)) c.callA = x->first;
      if (auto x = diff::causeCallOf(runs[1], d.seqsB)) c.callB = x->first;
    }
    m_causes.push_back(c);
  }
  m_warning = warnings.join(QLatin1Char('\n'));
  m_docB = std::move(doc.value());
}

}  // namespace aa::view
