// aa-session synth --events N --seed S -o FILE
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"
#include "store/synth/synth.h"

namespace aa {
namespace {

std::optional<uint64_t> parseCount(const std::string& s) {
  if (s.empty() || s[0] == '-') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  // Accept 10M / 500k as the benchmarks name their sizes.
  uint64_t scale = 1;
  if (*end == 'k' || *end == 'K') scale = 1000, ++end;
  else if (*end == 'M') scale = 1000'000, ++end;
  if (errno || *end || v > UINT64_MAX / scale) return std::nullopt;
  return v * scale;
}

}  // namespace

int runSynthCommand(int argc, char** argv) {
  auto parsed = parseArgs(argc, argv, 1,
                          {{"--events", true}, {"--seed", true}, {"--output", true},
                           {"-o", true, "--output"}, {"--no-tls-payloads", false}});
  if (!parsed.ok()) return cli::usageError(argv[0], parsed.status().message());
  if (!parsed->positional.empty())
    return cli::usageError(argv[0], "unexpected argument '" + parsed->positional[0] + "'");
  SynthOptions opts;
  if (auto v = parsed->last("--events")) {
    auto n = parseCount(*v);
    if (!n) return cli::usageError(argv[0], "bad --events '" + *v + "'");
    opts.events = *n;
  } else {
    return cli::usageError(argv[0], "missing --events N");
  }
  if (auto v = parsed->last("--seed")) {
    auto n = parseCount(*v);
    if (!n) return cli::usageError(argv[0], "bad --seed '" + *v + "'");
    opts.seed = *n;
  }
  opts.tlsPayloads = !parsed->has("--no-tls-payloads");
  auto out = parsed->last("--output");
  if (!out) return cli::usageError(argv[0], "missing -o FILE");

  auto t0 = std::chrono::steady_clock::now();
  auto r = writeSynthSession(*out, opts);
  if (!r.ok()) return cli::failFile(*out, r.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char line[256];
  std::snprintf(line, sizeof line, "%s: %llu events, %llu bytes (%.1f B/event), %.2f s\n",
                out->c_str(), (unsigned long long)r->events, (unsigned long long)r->fileBytes,
                r->events ? double(r->fileBytes) / r->events : 0.0, secs);
  if (!cli::writeStdout(line)) return cli::fail("stdout: write failed");
  return 0;
}

}  // namespace aa
