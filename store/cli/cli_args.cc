#include "store/cli/cli_args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace aa {
namespace {

std::vector<std::string_view> splitCommas(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    size_t c = s.find(',');
    out.push_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

}  // namespace

std::optional<std::string> ParsedArgs::last(std::string_view name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

StatusOr<ParsedArgs> parseArgs(int argc, char** argv, int first,
                               const std::vector<OptionSpec>& specs) {
  ParsedArgs out;
  bool optionsDone = false;
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (optionsDone || a.size() < 2 || a[0] != '-') {
      out.positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      optionsDone = true;
      continue;
    }
    std::string_view name = a, inlineValue;
    bool hasInline = false;
    if (size_t eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      name = a.substr(0, eq);
      inlineValue = a.substr(eq + 1);
      hasInline = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (!spec) return Status::error("unknown option '" + std::string(name) + "'");
    std::string longName(spec->alias.empty() ? spec->name : spec->alias);
    if (!spec->takesValue) {
      if (hasInline) return Status::error("option '" + std::string(name) + "' takes no value");
      out.values[longName];
      continue;
    }
    if (hasInline) {
      out.values[longName].emplace_back(inlineValue);
    } else {
      if (i + 1 >= argc) return Status::error("option '" + std::string(name) + "' needs a value");
      out.values[longName].emplace_back(argv[++i]);
    }
  }
  return out;
}

StatusOr<uint64_t> parseTimeNs(std::string_view text) {
  auto bad = [&] {
    return Status::error("bad time '" + std::string(text) +
                         "': expected ns or a number with a unit (ns, us, ms, s, m, h), e.g. "
                         "1.5s or 200ms");
  };
  if (text.empty() || text[0] == '-' || text[0] == '+') return bad();
  size_t unitAt = text.find_first_not_of("0123456789.");
  std::string_view num = text.substr(0, unitAt);
  std::string_view unit = unitAt == std::string_view::npos ? "" : text.substr(unitAt);
  if (num.empty() || num.find('.') != num.rfind('.') || num == ".") return bad();
  double scale;
  if (unit.empty() || unit == "ns") scale = 1;
  else if (unit == "us" || unit == "\u00b5s") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "s") scale = 1e9;
  else if (unit == "m" || unit == "min") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else return bad();
  // Plain integers of ns stay exact; anything with a fraction or a unit goes via double.
  if (scale == 1 && num.find('.') == std::string_view::npos) {
    errno = 0;
    std::string s(num);
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno == ERANGE || *end) return bad();
    return static_cast<uint64_t>(v);
  }
  std::string s(num);
  double v = std::strtod(s.c_str(), nullptr) * scale;
  if (!std::isfinite(v) || v >= 1.8e19) return bad();
  return static_cast<uint64_t>(std::llround(v));
}

const std::vector<OptionSpec>& queryOptionSpecs() {
  static const std::vector<OptionSpec> kSpecs = {
      {"--kind", true}, {"--pid", true}, {"--from", true}, {"--to", true}};
  return kSpecs;
}

StatusOr<EventQuery> queryFromArgs(const ParsedArgs& args) {
  EventQuery q;
  if (auto it = args.values.find("--kind"); it != args.values.end()) {
    q.kinds = 0;
    for (const auto& v : it->second)
      for (auto name : splitCommas(v)) {
        auto k = parseKind(name);
        // "file", "tls" and "net" as shorthands for every kind of that family.
        if (!k && (name == "file" || name == "tls" || name == "net" || name == "process")) {
          for (int i = 0; i < kKindCount; ++i) {
            auto kn = kindName(static_cast<Kind>(i));
            bool match = name == "process" ? (kn == "exec" || kn == "fork" || kn == "exit")
                                           : kn.starts_with(std::string(name) + ".");
            if (match) q.kinds |= 1u << i;
          }
          continue;
        }
        if (!k)
          return Status::error("unknown kind '" + std::string(name) +
                               "' (exec, fork, exit, file.open, file.close, ..., tls.write, "
                               "tls.read, net.send, net.recv, lost, or file/tls/net/process)");
        q.kinds |= bit(*k);
      }
  }
  if (auto it = args.values.find("--pid"); it != args.values.end()) {
    for (const auto& v : it->second)
      for (auto p : splitCommas(v)) {
        std::string s(p);
        char* end = nullptr;
        errno = 0;
        unsigned long n = std::strtoul(s.c_str(), &end, 10);
        if (s.empty() || *end || errno || n > UINT32_MAX || s[0] == '-')
          return Status::error("bad pid '" + s + "'");
        q.pids.push_back(static_cast<uint32_t>(n));
      }
  }
  if (auto v = args.last("--from")) {
    auto t = parseTimeNs(*v);
    if (!t.ok()) return Status::error("--from: " + t.status().message());
    q.fromNs = *t;
  }
  if (auto v = args.last("--to")) {
    auto t = parseTimeNs(*v);
    if (!t.ok()) return Status::error("--to: " + t.status().message());
    q.toNs = *t;
  }
  if (q.fromNs && q.toNs && *q.fromNs > *q.toNs)
    return Status::error("--from is after --to");
  return q;
}

}  // namespace aa
