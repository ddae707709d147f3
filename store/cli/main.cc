// aa-session: inspect, export, check and generate aa-record session files.
#include <cstdio>
#include <string>
#include <string_view>

#include "store/catch_fault.h"
#include "store/cli/commands.h"

namespace {

void printUsage(std::FILE* out) {
  std::fprintf(out, "usage: aa-session COMMAND [ARGS]\n\ncommands:\n");
  for (const auto& c : aa::commandTable())
    std::fprintf(out, "  %-8.*s %.*s\n      %.*s\n", int(c.name.size()), c.name.data(),
                 int(c.usage.size()), c.usage.data(), int(c.summary.size()), c.summary.data());
  std::fprintf(out,
               "\ntimes (--from/--to) are ns since session start, or with a unit: 1.5s, "
               "200ms, 30us\n--kind takes names (exec, file.open, tls.read, ...), lists "
               "(a,b) and families (file, tls, net, process)\n--json: one object per line; keys "
               "and the rules for bytes that are not UTF-8 are in store/render/event_json.h\n"
               "exit status: 0 ok, 1 failure (bad or damaged file), 2 usage error\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "aa-session: missing command (try aa-session --help)\n");
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    printUsage(stdout);
    return 0;
  }
  for (const auto& c : aa::commandTable()) {
    if (c.name != name) continue;
    for (int i = 2; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "--") break;
      if (a == "-h" || a == "--help") {
        std::printf("usage: aa-session %.*s %.*s\n%.*s\n", int(c.name.size()), c.name.data(),
                    int(c.usage.size()), c.usage.data(), int(c.summary.size()),
                    c.summary.data());
        return 0;
      }
    }
    // The store reports bad input as Status; an exception here is a fault worth a line,
    // not a crash dump.
    int status = 1;
    aa::Status fault = aa::catchFault("internal error", [&] { status = c.run(argc - 1, argv + 1); });
    if (!fault.ok()) {
      std::fprintf(stderr, "aa-session: %.*s: %s\n", int(name.size()), name.data(),
                   fault.message().c_str());
      return 1;
    }
    return status;
  }
  std::fprintf(stderr, "aa-session: unknown command '%s' (try aa-session --help)\n", argv[1]);
  return 2;
}
