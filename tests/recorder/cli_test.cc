// aa-record's command line: bad input gets one line naming the thing and exit 2,
// before anything needs root.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

namespace {

struct Result {
  int status = -1;
  std::string err;
};

Result run(const std::string& args) {
  std::string cmd = std::string(AA_RECORD_PATH) + " " + args + " 2>&1 >/dev/null";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.err.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

void expectUsageError(const std::string& args, const std::string& names) {
  Result r = run(args);
  EXPECT_EQ(r.status, 2) << args;
  EXPECT_NE(r.err.find("aa-record: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(names), std::string::npos) << "message should name " << names << ": " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST(AaRecordCli, BadOptionsAreOneLineExit2) {
  expectUsageError("--bogus", "--bogus");
  expectUsageError("--ring-size 1x -- true", "--ring-size 1x");
  expectUsageError("--ring-size 100 -- true", "--ring-size 100");
  expectUsageError("--io=sometimes -- true", "--io sometimes");
  expectUsageError("--pid 0", "--pid 0");
  expectUsageError("--pid abc", "--pid abc");
  expectUsageError("--duration -1 -- true", "--duration -1");
  expectUsageError("--max-tls-bytes lots -- true", "--max-tls-bytes lots");
  expectUsageError("--redact-header= -- true", "--redact-header");
  expectUsageError("--redact-key= -- true", "--redact-key");
}

TEST(AaRecordCli, ExactlyOneTarget) {
  expectUsageError("", "exactly one target");
  expectUsageError("--all --pid 1", "exactly one target");
  expectUsageError("--all -- true", "exactly one target");
}

TEST(AaRecordCli, HelpExitsZero) {
  Result r = run("--help");
  EXPECT_EQ(r.status, 0);
}

}  // namespace

// --probe-report --tls-of needs no root: it loads nothing.
Result runOut(const std::string& args) {
  std::string cmd = std::string(AA_RECORD_PATH) + " " + args + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.err.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(AaRecordCli, TlsOfNeedsProbeReport) {
  expectUsageError("--tls-of /bin/sh", "--tls-of needs --probe-report");
  expectUsageError("--probe-report --tls-of=", "--tls-of: empty path");
}

TEST(AaRecordCli, TlsOfSaysHowEachFileWouldBeHooked) {
  const char* libssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
  Result r = runOut(std::string("--probe-report --tls-of ") + libssl + " --tls-of /bin/sh --tls-of /nonexistent");
  EXPECT_EQ(r.status, 1) << r.err;  // /bin/sh has nothing to hook
  if (FILE* f = fopen(libssl, "r")) {
    fclose(f);
    EXPECT_NE(r.err.find(std::string(libssl) + ": OpenSSL: hooked, offsets by exported symbols"),
              std::string::npos) << r.err;
  }
  EXPECT_NE(r.err.find("/bin/sh: no TLS stack found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent: cannot check: /nonexistent: No such file or directory"),
            std::string::npos) << r.err;
}
