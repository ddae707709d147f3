// GoogleTest main with a QApplication (offscreen unless a platform is chosen): models
// and widgets need one, and tests must not need a display.
#include <QApplication>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("aa-record-tests"));
  QApplication::setApplicationName(QStringLiteral("aa-view-tests"));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
