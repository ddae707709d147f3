// Command-line parsing shared by the aa-session subcommands (and their tests).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/session_reader.h"
#include "store/status.h"

namespace aa {

struct OptionSpec {
  std::string_view name;    // "--kind", or a short alias "-o"
  bool takesValue;
  std::string_view alias = {};   // the long name a short alias stands for
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>, std::less<>> values;   // by long name
  std::vector<std::string> positional;
  bool has(std::string_view name) const { return values.count(name) > 0; }
  // The last value given for an option.
  std::optional<std::string> last(std::string_view name) const;
};

// Parses argv[first..argc) against specs: "--opt value", "--opt=value", flags, and
// positionals; "--" ends options. Errors say which option and why.
StatusOr<ParsedArgs> parseArgs(int argc, char** argv, int first,
                               const std::vector<OptionSpec>& specs);

// A point in time or a duration, in ns: "1500" (ns), "1.5s", "200ms", "30us", "10ns",
// "2m", "1h". Rejects negatives, garbage and overflow.
StatusOr<uint64_t> parseTimeNs(std::string_view text);

// --kind K (repeatable, comma-separated), --pid P (same), --from T, --to T.
StatusOr<EventQuery> queryFromArgs(const ParsedArgs& args);

// Option specs for queryFromArgs.
const std::vector<OptionSpec>& queryOptionSpecs();

}  // namespace aa
