// Runs the aa-view binary (AA_VIEW_BINARY, defined by the test's CMake target) offscreen
// with args: its exit code (-1 when it crashed or did not finish in 60 s) and stderr.
#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace aa::view::test {

struct ViewRun {
  int exitCode = -1;
  QString err;
};

inline ViewRun runAaView(const QStringList& args) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
  p.setProcessEnvironment(env);
  p.start(QStringLiteral(AA_VIEW_BINARY), args);
  if (!p.waitForFinished(60000)) return {};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
          QString::fromLocal8Bit(p.readAllStandardError())};
}

}  // namespace aa::view::test
