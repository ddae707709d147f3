// aa-session diff [--json] [--exit-code] [--ignore AREA:PATTERN]... [--exact-names]
//                 [--no-default-ignores] A B
//
// What changed in what the agent did between run A and run B (store/diff): execs,
// file changes, network peers, LLM calls. Exit 0, or with --exit-code 1 when the runs
// differ (as `git diff --exit-code`); failures print a line on stderr and exit 1 too.
#include <cstdio>
#include <string>

#include "store/cli/cli_common.h"
#include "store/cli/commands.h"
#include "store/diff/session_diff.h"

namespace aa {

int runDiffCommand(int argc, char** argv) {
  const std::vector<OptionSpec> specs = {{"--json", false},
                                         {"--exit-code", false},
                                         {"--ignore", true},
                                         {"--exact-names", false},
                                         {"--no-default-ignores", false}};
  auto args = parseArgs(argc, argv, 1, specs);
  if (!args.ok()) return cli::usageError(argv[0], args.status().message());
  if (args->positional.size() != 2)
    return cli::usageError(argv[0], "expected two sessions, A and B");
  diff::DiffOptions opt;
  opt.normaliseNames = !args->has("--exact-names");
  opt.defaultIgnores = !args->has("--no-default-ignores");
  if (auto it = args->values.find("--ignore"); it != args->values.end()) opt.ignore = it->second;
  if (Status s = diff::validateIgnores(opt.ignore); !s.ok())
    return cli::usageError(argv[0], s.message());

  diff::RunSummary runs[2];
  for (int k = 0; k < 2; ++k) {
    const std::string& path = args->positional[k];
    int rc = 0;
    auto reader = cli::openOrFail(path, {}, rc);
    if (!reader) return rc;
    auto s = diff::summarizeRun(*reader, opt);
    if (!s.ok()) return cli::failFile(path, s.status());
    if (!reader->damage().ok())
      std::fprintf(stderr, "aa-session: %s (compared up to the damage)\n",
                   reader->damage().message().c_str());
    runs[k] = std::move(*s);
  }
  auto d = diff::diffRuns(runs[0], runs[1], opt);
  std::string out = args->has("--json") ? diff::diffJson(d, runs[0], runs[1]) : diff::diffText(d);
  if (!cli::writeStdout(out)) return cli::fail("stdout: write failed");
  return args->has("--exit-code") && !d.same() ? 1 : 0;
}

}  // namespace aa
