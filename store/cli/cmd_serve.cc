// aa-session serve [--port N] [--tls] [--ca-dir DIR] [--speed X] [--until-done]
//                  [--report FILE] [--env-file FILE] [--exact] [--verbose] SESSION
//
// A loopback mock of the LLM APIs the session recorded (store/serve): each request is
// answered with the recorded response it matches, in the recorded pieces (and pace, with
// --speed). Prints the environment that points agents at it. A request that matches
// nothing gets an API-shaped error and a divergence line; at the end (SIGINT, SIGTERM,
// or --until-done) a summary, the report (--report, JSON), and exit status 1 when any
// request diverged or a recorded exchange was never requested. docs/REPLAY.md.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"
#include "store/serve/mock_server.h"
#include "store/serve/replay_plan.h"
#include "store/serve/test_ca.h"
#include "store/traffic/json.h"
#include "store/traffic/traffic.h"

namespace aa {
namespace {

int gStopWrite = -1;

void onStopSignal(int) {
  char b = 1;
  if (gStopWrite >= 0) (void)!::write(gStopWrite, &b, 1);
}

std::string defaultCaDir() {
  const char* t = std::getenv("TMPDIR");
  std::string base = t && *t ? t : "/tmp";
  return base + "/aa-session-serve-ca-" + std::to_string(::getuid());
}

void appendDivergence(std::string& o, const serve::Divergence& d) {
  using traffic::appendJsonString;
  o += "{\"request\":";
  o += d.request == std::numeric_limits<size_t>::max() ? "null" : std::to_string(d.request);
  o += ",\"method\":";
  appendJsonString(o, d.method);
  o += ",\"target\":";
  appendJsonString(o, d.target);
  o += ",\"recorded\":";
  appendJsonString(o, d.recorded);
  o += ",\"field\":";
  appendJsonString(o, d.field);
  o += ",\"recorded_value\":";
  appendJsonString(o, d.recordedValue);
  o += ",\"received_value\":";
  appendJsonString(o, d.receivedValue);
  o += ",\"message\":";
  appendJsonString(o, d.message);
  o += '}';
}

Status writeFileAtomically(const std::string& path, const std::string& text, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::error(tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Status::error(tmp + ": write failed");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::error(path + ": " + std::strerror(errno));
  return Status();
}

}  // namespace

int runServeCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {
      {"--port", true},       {"--tls", false},      {"--ca-dir", true},
      {"--speed", true},      {"--until-done", false}, {"--report", true},
      {"--env-file", true},   {"--exact", false},    {"--verbose", false},
      {"-v", false, "--verbose"}};
  int rc = 0;
  auto args = cli::parseCommandArgs(argc, argv, specs, rc);
  if (!args) return rc;
  serve::ServerOptions so;
  if (auto p = args->last("--port")) {
    char* end = nullptr;
    unsigned long v = std::strtoul(p->c_str(), &end, 10);
    if (p->empty() || *end || v > 65535)
      return cli::usageError(argv[0], "bad --port '" + *p + "': expected 0..65535");
    so.port = uint16_t(v);
  }
  if (auto s = args->last("--speed")) {
    char* end = nullptr;
    double v = std::strtod(s->c_str(), &end);
    if (s->empty() || *end || !(v >= 0) || v > 1e6)
      return cli::usageError(argv[0], "bad --speed '" + *s + "': expected a factor >= 0 (0: no pacing)");
    so.speed = v;
  }
  so.tls = args->has("--tls");
  so.untilDone = args->has("--until-done");
  const bool verbose = args->has("--verbose");
  const std::string& path = args->positional[0];

  auto reader = cli::openOrFail(path, {}, rc);
  if (!reader) return rc;
  auto t = traffic::loadTraffic(*reader);
  if (!t.ok()) return cli::failFile(path, t.status());
  serve::PlanOptions po;
  po.normaliseNames = !args->has("--exact");
  if (po.normaliseNames) {
    auto names = diff::tempNamesMadeBy(*reader);
    if (!names.ok()) return cli::failFile(path, names.status());
    po.recordingNames = std::move(*names);
  }
  serve::ReplayPlan plan(*t, po);
  if (plan.llmCalls() + plan.otherExchanges() == 0)
    return cli::fail(path + ": no recorded HTTP exchange with a response to serve");
  if (!reader->damage().ok())
    std::fprintf(stderr, "aa-session: %s (serving what was read before it)\n",
                 reader->damage().message().c_str());

  std::string caFile;
  if (so.tls) {
    // Absolute: the printed paths are read by agents running in other directories.
    std::error_code ec;
    std::string dir =
        std::filesystem::absolute(args->last("--ca-dir").value_or(defaultCaDir()), ec).string();
    auto ca = serve::ensureTestCa(dir);
    if (!ca.ok()) return cli::fail("--tls: " + ca.status().message());
    so.certFile = ca->serverCert;
    so.keyFile = ca->serverKey;
    caFile = ca->caCert;
  } else if (args->has("--ca-dir")) {
    return cli::usageError(argv[0], "--ca-dir needs --tls");
  }

  int stopPipe[2];
  if (::pipe2(stopPipe, O_CLOEXEC) != 0) return cli::fail(std::string("pipe: ") + std::strerror(errno));
  gStopWrite = stopPipe[1];
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::mutex logMu;
  auto log = [&](const std::string& line, const serve::Divergence* d) {
    std::lock_guard<std::mutex> lock(logMu);
    if (d) std::fprintf(stderr, "aa-session serve: divergence: %s\n", d->message.c_str());
    else if (verbose) std::fprintf(stderr, "aa-session serve: %s\n", line.c_str());
  };
  auto server = serve::MockServer::listen(plan, so, log);
  if (!server.ok()) return cli::fail("serve: " + server.status().message());
  const std::string base = std::string(so.tls ? "https" : "http") + "://127.0.0.1:" +
                           std::to_string((*server)->port());
  std::string env = "export ANTHROPIC_BASE_URL=" + base + "\nexport OPENAI_BASE_URL=" + base +
                    "/v1\nexport GOOGLE_GEMINI_BASE_URL=" + base + "\n";
  if (so.tls) env += "export NODE_EXTRA_CA_CERTS=" + caFile + "\nexport SSL_CERT_FILE=" + caFile + "\n";
  if (auto f = args->last("--env-file")) {
    if (Status s = writeFileAtomically(*f, env, 0644); !s.ok()) return cli::fail(s.message());
  }
  if (!cli::writeStdout(env)) return cli::fail("stdout: write failed");
  std::fflush(stdout);
  std::fprintf(stderr,
               "aa-session serve: %s: %zu llm calls and %zu other exchanges on %s (SIGINT or "
               "SIGTERM to stop%s)\n",
               path.c_str(), plan.llmCalls(), plan.otherExchanges(), base.c_str(),
               so.untilDone ? "; stops when all are served" : "");

  Status ran = (*server)->run(stopPipe[0]);
  gStopWrite = -1;
  ::close(stopPipe[0]);
  ::close(stopPipe[1]);
  if (!ran.ok()) return cli::fail("serve: " + ran.message());

  auto divergences = plan.divergences();
  auto unserved = plan.unserved();
  for (const auto& u : unserved) std::fprintf(stderr, "aa-session serve: unserved: %s\n", u.message.c_str());
  std::fprintf(stderr,
               "aa-session serve: %zu requests, %zu of %zu recorded exchanges served, %zu "
               "divergences, %zu never requested\n",
               plan.requests(), plan.served(), plan.llmCalls() + plan.otherExchanges(),
               divergences.size(), unserved.size());
  if (auto f = args->last("--report")) {
    std::string o = "{\"session\":";
    traffic::appendJsonString(o, path);
    o += ",\"requests\":" + std::to_string(plan.requests()) +
         ",\"served\":" + std::to_string(plan.served()) +
         ",\"recorded\":" + std::to_string(plan.llmCalls() + plan.otherExchanges()) +
         ",\"divergences\":[";
    for (size_t i = 0; i < divergences.size(); ++i) {
      if (i) o += ',';
      appendDivergence(o, divergences[i]);
    }
    o += "],\"unserved\":[";
    for (size_t i = 0; i < unserved.size(); ++i) {
      if (i) o += ',';
      appendDivergence(o, unserved[i]);
    }
    o += "]}\n";
    if (Status s = writeFileAtomically(*f, o, 0644); !s.ok()) return cli::fail(s.message());
  }
  return divergences.empty() && unserved.empty() ? 0 : 1;
}

}  // namespace aa
