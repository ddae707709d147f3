#include "store/diff/session_diff.h"

#include "store/diff/tool_effects.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "store/event_catalog.h"
#include "store/kind.h"
#include "store/diff/run_effect.h"
#include "store/traffic/traffic.h"

namespace aa::diff {
namespace {

using traffic::Json;

bool isWord(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

int classesOf(std::string_view run) {
  bool up = false, low = false, dig = false;
  for (char c : run) {
    up |= std::isupper(static_cast<unsigned char>(c)) != 0;
    low |= std::islower(static_cast<unsigned char>(c)) != 0;
    dig |= std::isdigit(static_cast<unsigned char>(c)) != 0;
  }
  return int(up) + int(low) + int(dig);
}

bool isPythonTempTail(std::string_view t) {
  if (t.size() != 8) return false;
  bool marked = false;
  for (char c : t) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_'))
      return false;
    marked |= c == '_' || std::isdigit(static_cast<unsigned char>(c));
  }
  return marked;
}

// Shell-style quoting of argv, so a command line reads back unambiguously.
std::string joinArgv(const std::vector<std::string_view>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`|&;<>()*?") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string cut(std::string s, size_t max) {
  if (s.size() > max) {
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;   // whole UTF-8
    s.resize(n);
    s += "...";
  }
  return s;
}

bool globMatch(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

struct Ignores {
  std::vector<std::string> exec, file, peer, llm;
  explicit Ignores(const DiffOptions& o) {
    std::vector<std::string> all = o.ignore;
    if (o.defaultIgnores)
      for (const char* p : kDefaultIgnores) all.emplace_back(p);
    for (const auto& p : all) {
      size_t colon = p.find(':');
      if (colon == std::string::npos) continue;   // rejected by validateIgnores
      std::string area = p.substr(0, colon), pat = p.substr(colon + 1);
      if (area == "exec") exec.push_back(pat);
      else if (area == "file") file.push_back(pat);
      else if (area == "peer") peer.push_back(pat);
      else if (area == "llm") llm.push_back(pat);
    }
  }
  static bool any(const std::vector<std::string>& pats, const std::string& s) {
    for (const auto& p : pats)
      if (globMatch(p, s)) return true;
    return false;
  }
};

std::string statusOfExit(int32_t code, int32_t signal) {
  return signal ? "signal " + std::to_string(signal) : "exit " + std::to_string(code);
}

std::string toolCallsJson(const traffic::LlmCall& c) {
  // Ids are random per run: only names and arguments are compared.
  Json arr = Json::array();
  for (const auto& t : c.toolCalls) {
    Json o = Json::object();
    o.set("name", Json::string(t.name));
    auto args = traffic::parseJson(t.arguments);
    o.set("arguments", args.ok() ? *args : Json::string(t.arguments));
    arr.push(std::move(o));
  }
  return arr.dump();
}

// The text of call field `f`, with the run's temp names normalised unless `names` is null.
std::string llmField(const traffic::LlmCall& c, std::string_view f, const TempNames* names) {
  std::string v;
  if (f == "model") v = c.model;
  else if (f == "system") v = c.system;
  else if (f == "tools") v = c.tools;
  else if (f == "messages") v = c.requestMessages;
  else if (f == "answer") v = c.responseText;
  else if (f == "thinking") v = c.thinking;
  else if (f == "tool_calls") v = c.toolCalls.empty() ? "" : toolCallsJson(c);
  else if (f == "stop_reason") v = c.stopReason;
  else if (f == "status") v = c.status ? std::to_string(c.status) : "";
  else if (f == "error") v = c.error;
  return names ? names->normalise(v) : v;
}

bool isJsonField(std::string_view f) {
  return f == "system" || f == "tools" || f == "messages" || f == "tool_calls";
}

std::string requestKey(const traffic::LlmCall& c, const TempNames* names) {
  std::string k = c.api + '\n';
  for (const char* f : {"model", "system", "tools", "messages"}) k += llmField(c, f, names) + '\n';
  return k;
}

std::string callPreview(const traffic::LlmCall& c) {
  std::string s = c.provider + " " + c.api + " " + c.model;
  if (!c.toolCalls.empty()) {
    s += " -> tool " + c.toolCalls[0].name;
  } else if (!c.responseText.empty()) {
    std::string t = c.responseText;
    for (char& ch : t)
      if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    s += " -> \"" + cut(t, 60) + "\"";
  }
  return s;
}

}  // namespace

std::string FileEffect::describe() const {
  std::vector<std::string> parts;
  if (madeDir) parts.push_back("directory made");
  if (created) parts.push_back("created");
  if (truncated) parts.push_back("truncated");
  if (bytesWritten) parts.push_back(std::to_string(bytesWritten) + " bytes written");
  if (chmodded) parts.push_back("mode changed");
  if (chowned) parts.push_back("owner changed");
  if (linked) parts.push_back("linked");
  for (const auto& f : renamedFrom) parts.push_back("renamed from " + f);
  for (const auto& t : renamedTo) parts.push_back("renamed to " + t);
  if (deleted) parts.push_back("deleted");
  if (removedDir) parts.push_back("directory removed");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

void TempNames::learnMade(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t start = path.size();
  while (start > 0 && isWord(path[start - 1])) --start;
  std::string_view tail = path.substr(start);
  char prev = start > 0 ? path[start - 1] : '/';
  auto all = [&](auto pred) {
    return std::all_of(tail.begin(), tail.end(), [&](char c) { return pred(static_cast<unsigned char>(c)); });
  };
  bool python = tail.size() == 11 && tail.starts_with("tmp") &&
                all([](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '_'; });
  bool mktemp = (prev == '.' || prev == '-') && tail.size() >= 6 &&
                all([](unsigned char c) { return std::isalnum(c); }) &&
                !all([](unsigned char c) { return std::isdigit(c); });
  if (python) made_.emplace(tail, "tmpXXXXXXXX");
  else if (mktemp) made_.emplace(tail, "XXXXXX");
}

std::string TempNames::normalise(std::string_view s) const {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (!isWord(s[i])) {
      out += s[i++];
      continue;
    }
    size_t j = i;
    while (j < s.size() && isWord(s[j])) ++j;
    std::string_view run = s.substr(i, j - i);
    char prev = i > 0 ? s[i - 1] : '\0';
    bool alnum = std::all_of(run.begin(), run.end(),
                             [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
    if (auto m = made_.find(run); m != made_.end()) {
      out += m->second;
    } else if (prev == '.' && run.size() >= 6 && alnum && classesOf(run) >= 2) {
      out += "XXXXXX";
    } else if (prev == '-' && run.size() >= 6 && alnum && classesOf(run) == 3) {
      out += "XXXXXX";
    } else if (run.size() == 11 && run.starts_with("tmp") && isPythonTempTail(run.substr(3))) {
      out += "tmpXXXXXXXX";
    } else if (prev == '/' && i >= 6 && s.substr(i - 6, 6) == "/proc/" && j < s.size() &&
               s[j] == '/' &&
               std::all_of(run.begin(), run.end(),
                           [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      out += "PID";
    } else {
      out += run;
    }
    i = j;
  }
  return out;
}

std::string normaliseNames(std::string_view s) { return TempNames().normalise(s); }

StatusOr<TempNames> tempNamesMadeBy(const SessionReader& reader) {
  TempNames names;
  EventQuery q;
  q.kinds = bit(Kind::kFileMkdir) | bit(Kind::kFileOpen);
  Status st = reader.forEach(q, [&](schema::Event::Reader e) {
    auto fx = runEffectOf(describe(e));
    using C = RunEffect::Change;
    if (fx && (fx->change == C::kMakeDir || (fx->change == C::kOpen && fx->created && fx->exclusive)))
      names.learnMade(fx->path);
    return true;
  });
  if (!st.ok()) return st;
  return names;
}

Status validateIgnores(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    size_t colon = p.find(':');
    std::string area = colon == std::string::npos ? "" : p.substr(0, colon);
    if (area != "exec" && area != "file" && area != "peer" && area != "llm")
      return Status::error("bad --ignore '" + p +
                           "': expected exec:GLOB, file:GLOB, peer:GLOB or llm:FIELD");
    if (colon + 1 == p.size()) return Status::error("bad --ignore '" + p + "': empty pattern");
    if (area == "llm") {
      std::string pat = p.substr(colon + 1);
      bool known = false;
      for (const char* f : kLlmFields) known |= globMatch(pat, f);
      if (!known) {
        std::string fields;
        for (const char* f : kLlmFields) fields += (fields.empty() ? "" : ", ") + std::string(f);
        return Status::error("bad --ignore '" + p + "': no llm field matches (" + fields + ")");
      }
    }
  }
  return Status();
}

StatusOr<RunSummary> summarizeRun(const SessionReader& reader, const DiffOptions& options) {
  RunSummary run;
  run.path = reader.path();
  if (options.normaliseNames) {
    AA_ASSIGN_OR_RETURN(run.tempNames, tempNamesMadeBy(reader));
  }
  auto N = [&](std::string s) { return options.normaliseNames ? run.tempNames.normalise(s) : s; };
  std::map<uint32_t, size_t> lastExec;   // pid -> index into execs
  std::map<std::string, uint64_t> writeCallBytes, closeBytes;
  auto effect = [&](const std::string& path, uint64_t seq) -> FileEffect& {
    FileEffect& f = run.files[path];
    f.path = path;
    f.seqs.push_back(seq);
    return f;
  };
  Status st = reader.forEach({}, [&](schema::Event::Reader e) {
    const uint64_t seq = e.getSeq();
    const EventInfo info = describe(e);
    if (info.kind == Kind::kExit) {
      if (auto it = lastExec.find(e.getPid()); it != lastExec.end()) {
        run.execs[it->second].status =
            statusOfExit(int32_t(info.number("exit_code")), int32_t(info.number("signal")));
        lastExec.erase(it);
      }
      return true;
    }
    auto fx = runEffectOf(info);
    if (!fx) return true;
    using C = RunEffect::Change;
    const std::string path = N(std::string(fx->path));
    // Opens and writes name the file by its resolved path; one that was not (a path
    // the recorder could not resolve) cannot be compared across runs.
    if ((fx->change == C::kOpen || fx->change == C::kWrite) && !path.starts_with('/')) return true;
    switch (fx->change) {
      case C::kExec: {
        if (auto it = lastExec.find(e.getPid()); it != lastExec.end())
          run.execs[it->second].status = "exec";
        ExecRecord r;
        r.command = N(joinArgv(fx->argv) + (fx->argvTruncated ? " ..." : ""));
        r.status = "running";
        r.seq = seq;
        r.pid = e.getPid();
        r.tNs = e.getTNs();
        lastExec[e.getPid()] = run.execs.size();
        run.execs.push_back(std::move(r));
        break;
      }
      case C::kConnect: {
        PeerRecord& p = run.peers[N(fx->peer)];
        p.peer = N(fx->peer);
        ++p.connects;
        p.seqs.push_back(seq);
        break;
      }
      case C::kOpen: {
        FileEffect& f = effect(path, seq);
        f.created |= fx->created;
        f.truncated |= fx->truncated;
        break;
      }
      case C::kWrite:
        effect(path, seq);
        (fx->atClose ? closeBytes : writeCallBytes)[path] += fx->bytes;
        break;
      case C::kRename: {
        const std::string to = N(std::string(fx->newPath));
        effect(path, seq).renamedTo.push_back(to);
        effect(to, seq).renamedFrom.push_back(path);
        break;
      }
      case C::kDelete: effect(path, seq).deleted = true; break;
      case C::kMakeDir: effect(path, seq).madeDir = true; break;
      case C::kRemoveDir: effect(path, seq).removedDir = true; break;
      case C::kTruncate: effect(path, seq).truncated = true; break;
      case C::kChmod: effect(path, seq).chmodded = true; break;
      case C::kChown: effect(path, seq).chowned = true; break;
      case C::kSymlink: effect(path, seq).created = true; break;
      case C::kLink: effect(path, seq).linked = true; break;
    }
    return true;
  });
  if (!st.ok()) return st;
  for (auto& [path, f] : run.files) {
    // --io=summary reports bytes at close; --io=calls reports every write (and may report
    // closes too): count one source, never both.
    uint64_t c = closeBytes.count(path) ? closeBytes[path] : 0;
    uint64_t w = writeCallBytes.count(path) ? writeCallBytes[path] : 0;
    f.bytesWritten = c ? c : w;
  }

  AA_ASSIGN_OR_RETURN(auto t, traffic::loadTraffic(reader));
  for (size_t i = 0; i < t.calls.size(); ++i) {
    const auto& c = t.calls[i];
    if (c.exchange < t.exchanges.size() && t.exchanges[c.exchange].serverSide) continue;
    run.calls.push_back(c);
    run.callIndex.push_back(i);
  }
  for (size_t i = 0; i < t.calls.size(); ++i) {
    if (t.calls[i].toolCalls.empty()) continue;
    if (t.calls[i].exchange < t.exchanges.size() && t.exchanges[t.calls[i].exchange].serverSide)
      continue;
    for (const auto& tc : toolCallEffects(reader, t.calls, i))
      for (const auto& fx : tc.effects) {
        run.causes.emplace(fx.seq, "llm call " + std::to_string(i) + " tool " +
                                       std::to_string(tc.toolCall) + " " + tc.name + " (" + fx.by + ")");
        run.causeCalls.emplace(fx.seq, std::make_pair(i, tc.toolCall));
      }
  }
  // Tool-call ids are made up by the model, differently each run, and sent back in the
  // requests that follow: there they become "tool-id:C.T" (call C's tool call T).
  for (size_t i = 0; i < run.calls.size(); ++i)
    for (size_t k = 0; k < run.calls[i].toolCalls.size(); ++k) {
      const std::string& id = run.calls[i].toolCalls[k].id;
      if (id.size() < 4) continue;
      std::string quoted = "\"" + id + "\"";
      std::string placeholder = "\"tool-id:" + std::to_string(i) + "." + std::to_string(k) + "\"";
      for (size_t j = i + 1; j < run.calls.size(); ++j) {
        std::string& m = run.calls[j].requestMessages;
        for (size_t at = m.find(quoted); at != std::string::npos;
             at = m.find(quoted, at + placeholder.size()))
          m.replace(at, quoted.size(), placeholder);
      }
    }
  return run;
}

std::optional<std::pair<size_t, size_t>> causeCallOf(const RunSummary& run,
                                                     const std::vector<uint64_t>& seqs) {
  // The same first-seq-with-a-cause rule as diffRuns' causeA / causeB.
  for (uint64_t q : seqs)
    if (auto it = run.causeCalls.find(q); it != run.causeCalls.end()) return it->second;
  return std::nullopt;
}

std::optional<JsonDifference> firstJsonDifference(const Json& a, const Json& b,
                                                  const std::string& root, size_t maxValue) {
  if (a.type() != b.type()) return JsonDifference{root, cut(a.dump(), maxValue), cut(b.dump(), maxValue)};
  switch (a.type()) {
    case Json::Type::kNull:
      return std::nullopt;
    case Json::Type::kBool:
      if (a.asBool() == b.asBool()) return std::nullopt;
      return JsonDifference{root, a.dump(), b.dump()};
    case Json::Type::kNumber:
    case Json::Type::kString:
      if (a.str() == b.str()) return std::nullopt;
      return JsonDifference{root, cut(a.dump(), maxValue), cut(b.dump(), maxValue)};
    case Json::Type::kArray: {
      size_t n = std::min(a.size(), b.size());
      for (size_t i = 0; i < n; ++i)
        if (auto d = firstJsonDifference(a.at(i), b.at(i), root + "[" + std::to_string(i) + "]",
                                         maxValue))
          return d;
      if (a.size() == b.size()) return std::nullopt;
      std::string at = root + "[" + std::to_string(n) + "]";
      if (a.size() > n) return JsonDifference{at, cut(a.at(n).dump(), maxValue), ""};
      return JsonDifference{at, "", cut(b.at(n).dump(), maxValue)};
    }
    case Json::Type::kObject: {
      for (const auto& [k, v] : a.members()) {
        std::string at = root.empty() ? k : root + "." + k;
        const Json* w = b.find(k);
        if (!w) return JsonDifference{at, cut(v.dump(), maxValue), ""};
        if (auto d = firstJsonDifference(v, *w, at, maxValue)) return d;
      }
      for (const auto& [k, v] : b.members())
        if (!a.find(k))
          return JsonDifference{root.empty() ? k : root + "." + k, "", cut(v.dump(), maxValue)};
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<JsonDifference> firstJsonTextDifference(std::string_view a, std::string_view b,
                                                      const std::string& root, size_t maxValue) {
  if (a == b) return std::nullopt;
  if (a.empty() || b.empty()) return JsonDifference{root, cut(std::string(a), maxValue), cut(std::string(b), maxValue)};
  auto ja = traffic::parseJson(a), jb = traffic::parseJson(b);
  if (ja.ok() && jb.ok()) {
    if (auto d = firstJsonDifference(*ja, *jb, root, maxValue)) return d;
    return std::nullopt;   // same value, different spelling
  }
  return JsonDifference{root, cut(std::string(a), maxValue), cut(std::string(b), maxValue)};
}

SessionDiff diffRuns(const RunSummary& a, const RunSummary& b, const DiffOptions& options) {
  SessionDiff d;
  Ignores ig(options);
  const TempNames* namesA = options.normaliseNames ? &a.tempNames : nullptr;
  const TempNames* namesB = options.normaliseNames ? &b.tempNames : nullptr;

  // Processes: a multiset of command lines, each with its statuses.
  std::map<std::string, std::vector<const ExecRecord*>> ea, eb;
  for (const auto& e : a.execs)
    if (!Ignores::any(ig.exec, e.command)) ea[e.command].push_back(&e);
  for (const auto& e : b.execs)
    if (!Ignores::any(ig.exec, e.command)) eb[e.command].push_back(&e);
  for (const auto& [cmd, v] : ea) d.execsA += v.size();
  for (const auto& [cmd, v] : eb) d.execsB += v.size();
  std::set<std::string> commands;
  for (const auto& [c, v] : ea) commands.insert(c);
  for (const auto& [c, v] : eb) commands.insert(c);
  for (const auto& cmd : commands) {
    std::vector<const ExecRecord*> la = ea.count(cmd) ? ea[cmd] : std::vector<const ExecRecord*>{};
    std::vector<const ExecRecord*> lb = eb.count(cmd) ? eb[cmd] : std::vector<const ExecRecord*>{};
    // Pair equal statuses first; what is left pairs up as status changes, in order.
    std::vector<bool> usedB(lb.size());
    std::vector<const ExecRecord*> restA;
    for (const auto* x : la) {
      bool paired = false;
      for (size_t j = 0; j < lb.size() && !paired; ++j)
        if (!usedB[j] && lb[j]->status == x->status) usedB[j] = paired = true;
      if (!paired) restA.push_back(x);
    }
    std::vector<const ExecRecord*> restB;
    for (size_t j = 0; j < lb.size(); ++j)
      if (!usedB[j]) restB.push_back(lb[j]);
    size_t k = 0;
    for (; k < restA.size() && k < restB.size(); ++k)
      d.differences.push_back({"exec", "changed", cmd, "status", restA[k]->status,
                               restB[k]->status, {restA[k]->seq}, {restB[k]->seq}, {}, {}, "", ""});
    for (size_t i = k; i < restA.size(); ++i)
      d.differences.push_back({"exec", "removed", cmd, "", restA[i]->status, "", {restA[i]->seq}, {}, {}, {}, "", ""});
    for (size_t i = k; i < restB.size(); ++i)
      d.differences.push_back({"exec", "added", cmd, "", "", restB[i]->status, {}, {restB[i]->seq}, {}, {}, "", ""});
  }

  // Files: one entry per path with what happened to it.
  std::set<std::string> paths;
  for (const auto& [p, f] : a.files)
    if (!Ignores::any(ig.file, p)) paths.insert(p), ++d.filesA;
  for (const auto& [p, f] : b.files)
    if (!Ignores::any(ig.file, p)) paths.insert(p), ++d.filesB;
  for (const auto& p : paths) {
    auto ia = a.files.find(p), ib = b.files.find(p);
    bool inA = ia != a.files.end() && !Ignores::any(ig.file, p);
    bool inB = ib != b.files.end() && !Ignores::any(ig.file, p);
    std::string da = inA ? ia->second.describe() : "", db = inB ? ib->second.describe() : "";
    if (inA && inB && da == db) continue;
    Difference x{"file", inA && inB ? "changed" : inA ? "removed" : "added", p, inA && inB ? "effects" : "",
                 da, db, inA ? ia->second.seqs : std::vector<uint64_t>{},
                 inB ? ib->second.seqs : std::vector<uint64_t>{}, {}, {}, "", ""};
    d.differences.push_back(std::move(x));
  }

  // Network peers: the set of addresses connected to.
  std::set<std::string> peers;
  for (const auto& [p, r] : a.peers)
    if (!Ignores::any(ig.peer, p)) peers.insert(p), ++d.peersA;
  for (const auto& [p, r] : b.peers)
    if (!Ignores::any(ig.peer, p)) peers.insert(p), ++d.peersB;
  for (const auto& p : peers) {
    auto ia = a.peers.find(p), ib = b.peers.find(p);
    bool inA = ia != a.peers.end(), inB = ib != b.peers.end();
    if (inA && inB) continue;
    auto n = [](const PeerRecord& r) { return std::to_string(r.connects) + (r.connects == 1 ? " connection" : " connections"); };
    d.differences.push_back({"peer", inA ? "removed" : "added", p, "", inA ? n(ia->second) : "",
                             inB ? n(ib->second) : "", inA ? ia->second.seqs : std::vector<uint64_t>{},
                             inB ? ib->second.seqs : std::vector<uint64_t>{}, {}, {}, "", ""});
  }

  // What each exec or file difference followed from, when a tool call explains it.
  auto causeOf = [](const RunSummary& r, const std::vector<uint64_t>& seqs) -> std::string {
    for (uint64_t q : seqs)
      if (auto it = r.causes.find(q); it != r.causes.end()) return it->second;
    return "";
  };
  for (auto& x : d.differences) {
    x.causeA = causeOf(a, x.seqsA);
    x.causeB = causeOf(b, x.seqsB);
  }

  // LLM calls: anchored where the requests are equal (longest common subsequence), the
  // calls between two anchors paired in order, the rest added or removed.
  d.callsA = a.calls.size();
  d.callsB = b.calls.size();
  const size_t n = a.calls.size(), m = b.calls.size();
  std::vector<std::pair<size_t, size_t>> anchors;
  if (n * m <= 4'000'000) {
    std::vector<std::string> ka(n), kb(m);
    for (size_t i = 0; i < n; ++i) ka[i] = requestKey(a.calls[i], namesA);
    for (size_t j = 0; j < m; ++j) kb[j] = requestKey(b.calls[j], namesB);
    std::vector<std::vector<uint32_t>> L(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        L[i][j] = ka[i] == kb[j] ? L[i + 1][j + 1] + 1 : std::max(L[i + 1][j], L[i][j + 1]);
    size_t i = 0, j = 0;
    while (i < n && j < m) {
      if (ka[i] == kb[j]) anchors.push_back({i++, j++});
      else if (L[i + 1][j] >= L[i][j + 1]) ++i;
      else ++j;
    }
  }
  anchors.push_back({n, m});
  auto compare = [&](size_t i, size_t j) {
    const auto& ca = a.calls[i];
    const auto& cb = b.calls[j];
    for (const char* f : kLlmFields) {
      if (Ignores::any(ig.llm, f)) continue;
      std::string va = llmField(ca, f, namesA), vb = llmField(cb, f, namesB);
      if (va == vb) continue;
      Difference x{"llm", "changed", "call " + std::to_string(a.callIndex[i]), f, cut(va, 240),
                   cut(vb, 240), {ca.tStartNs}, {cb.tStartNs}, a.callIndex[i], b.callIndex[j], "", ""};
      if (isJsonField(f)) {
        auto jd = firstJsonTextDifference(va, vb, f);
        if (!jd) continue;   // the same JSON value
        x.field = jd->path;
        x.a = jd->a;
        x.b = jd->b;
      }
      d.differences.push_back(std::move(x));
    }
  };
  size_t pi = 0, pj = 0;
  for (auto [ai, aj] : anchors) {
    size_t k = 0;
    for (; pi + k < ai && pj + k < aj; ++k) compare(pi + k, pj + k);
    for (size_t i = pi + k; i < ai; ++i)
      d.differences.push_back({"llm", "removed", "call " + std::to_string(a.callIndex[i]), "",
                               callPreview(a.calls[i]), "", {a.calls[i].tStartNs}, {},
                               a.callIndex[i], {}, "", ""});
    for (size_t j = pj + k; j < aj; ++j)
      d.differences.push_back({"llm", "added", "call " + std::to_string(b.callIndex[j]), "", "",
                               callPreview(b.calls[j]), {}, {b.calls[j].tStartNs}, {},
                               b.callIndex[j], "", ""});
    if (ai < n && aj < m) compare(ai, aj);   // equal requests: answers may still differ
    pi = ai + 1;
    pj = aj + 1;
  }
  return d;
}

std::string diffText(const SessionDiff& d) {
  std::string out;
  size_t counts[4] = {0, 0, 0, 0};
  auto printable = [](std::string s) {
    for (char& c : s)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return s;
  };
  for (const auto& x : d.differences) {
    char mark = x.change == "added" ? '+' : x.change == "removed" ? '-' : '~';
    std::string line(1, mark);
    line += ' ' + x.area + ' ';
    if (x.area == "llm") {
      if (x.change == "changed")
        line += "call " + std::to_string(*x.callA) + " / " + std::to_string(*x.callB) + ": " +
                x.field + ": " + printable(x.a.empty() ? "(none)" : x.a) + " -> " +
                printable(x.b.empty() ? "(none)" : x.b);
      else
        line += x.subject + (x.change == "added" ? " (B)" : " (A)") + ": " +
                printable(x.change == "added" ? x.b : x.a);
    } else {
      line += printable(x.subject);
      if (x.change == "changed") line += ": " + printable(x.a) + " -> " + printable(x.b);
      else if (!(x.change == "added" ? x.b : x.a).empty())
        line += " (" + printable(x.change == "added" ? x.b : x.a) + ")";
      const std::string& cause = x.change == "removed" ? x.causeA : x.causeB;
      if (!cause.empty()) line += "  <- " + cause;
    }
    out += line + '\n';
    counts[x.area == "exec" ? 0 : x.area == "file" ? 1 : x.area == "peer" ? 2 : 3]++;
  }
  if (d.same()) {
    out += "no differences (" + std::to_string(d.execsA) + " execs, " + std::to_string(d.filesA) +
           " files changed, " + std::to_string(d.peersA) + " peers, " + std::to_string(d.callsA) +
           " llm calls)\n";
  } else {
    out += std::to_string(d.differences.size()) + " differences: exec " + std::to_string(counts[0]) +
           ", file " + std::to_string(counts[1]) + ", peer " + std::to_string(counts[2]) +
           ", llm " + std::to_string(counts[3]) + "\n";
  }
  return out;
}

std::string diffJson(const SessionDiff& d, const RunSummary& a, const RunSummary& b) {
  using traffic::appendJsonString;
  std::string o = "{\"same\":";
  o += d.same() ? "true" : "false";
  auto side = [&](const char* name, const RunSummary& r, size_t e, size_t f, size_t p, size_t c) {
    o += ",\"";
    o += name;
    o += "\":{\"path\":";
    appendJsonString(o, r.path);
    o += ",\"execs\":" + std::to_string(e) + ",\"files\":" + std::to_string(f) +
         ",\"peers\":" + std::to_string(p) + ",\"llm_calls\":" + std::to_string(c) + "}";
  };
  side("a", a, d.execsA, d.filesA, d.peersA, d.callsA);
  side("b", b, d.execsB, d.filesB, d.peersB, d.callsB);
  o += ",\"differences\":[";
  bool first = true;
  for (const auto& x : d.differences) {
    if (!first) o += ',';
    first = false;
    o += "{\"area\":";
    appendJsonString(o, x.area);
    o += ",\"change\":";
    appendJsonString(o, x.change);
    o += ",\"subject\":";
    appendJsonString(o, x.subject);
    o += ",\"field\":";
    appendJsonString(o, x.field);
    o += ",\"a\":";
    appendJsonString(o, x.a);
    o += ",\"b\":";
    appendJsonString(o, x.b);
    auto seqs = [&](const char* k, const std::vector<uint64_t>& v) {
      o += ",\"";
      o += k;
      o += "\":[";
      for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + std::to_string(v[i]);
      o += ']';
    };
    if (x.area == "llm") {
      o += ",\"call_a\":" + (x.callA ? std::to_string(*x.callA) : "null");
      o += ",\"call_b\":" + (x.callB ? std::to_string(*x.callB) : "null");
    } else {
      seqs("seqs_a", x.seqsA);
      seqs("seqs_b", x.seqsB);
      o += ",\"cause_a\":";
      appendJsonString(o, x.causeA);
      o += ",\"cause_b\":";
      appendJsonString(o, x.causeB);
    }
    o += '}';
  }
  o += "]}\n";
  return o;
}

}  // namespace aa::diff
