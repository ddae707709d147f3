// What changed in what an agent did between two recorded runs (`aa-session diff A B`).
//
// Each run is first reduced to its behaviour (RunSummary): the command lines it executed
// with their exit statuses (a multiset), the files it changed (created, truncated,
// written with a byte count, renamed, deleted, directories made and removed), the
// network peers it connected to, and its LLM calls. Then the two summaries are compared
// (diffRuns) into a flat list of Differences, each reported once, each pointing back at
// the events (seqs) or calls of both runs so a viewer can link into both timelines.
//
// What always differs between two runs is left out (kDefaultIgnoreDoc lists it): pids,
// times, fds and connection ids are never compared; random parts of temporary names
// (mktemp's XXXXXX, Python's tmpXXXXXXXX) and /proc/PID become fixed placeholders; LLM
// response ids and token counts are not compared, and the tool-call ids a model made up
// become "tool-id:C.T" (call C's tool call T) in the requests that send them back. DiffOptions.ignore
// adds more, by area: "exec:GLOB", "file:GLOB", "peer:GLOB", "llm:FIELD".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/session_reader.h"
#include "store/status.h"
#include "store/traffic/json.h"
#include "store/traffic/llm.h"

namespace aa::diff {

// The random parts of temporary names, replaced by placeholders. They are known two ways.
//
// By shape alone (normaliseNames): NAME.XXXXXX (a run of 6+ letters/digits after '.',
// mixing two of upper, lower and digits), NAME-XXXXXX (after '-', mixing all three),
// tmpXXXXXXXX (Python's tempfile: "tmp" and 8 of [a-z0-9_] with a digit or '_'), and
// /proc/PID/. The mixing keeps names like ".backup" or "build-output" as they are, but
// it misses random tails that happen to be of one kind: mktemp's "UQZUJT" (1% of its
// names), Node's mkdtemp("x-") with no digit (35%), Python's with neither (6%).
//
// By what the run did (TempNames): a name the run made itself, with mkdir or with open's
// O_CREAT|O_EXCL (how mktemp, mkdtemp and tempfile make them), whose last part has the
// shape of a random tail of any mix (6+ letters and digits, with a letter, after '.' or
// '-'; or "tmp" and 8 of [a-z0-9_]). That tail is then replaced wherever the run names it.
class TempNames {
 public:
  // Learns the tail of the last component of `path`, which the run made, if it has the shape.
  void learnMade(std::string_view path);
  // `text` with the shaped names and the learned tails replaced.
  std::string normalise(std::string_view text) const;
  size_t size() const { return made_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> made_;   // tail -> its placeholder
};

// The names the session's processes made (its successful mkdirs and O_EXCL opens).
StatusOr<TempNames> tempNamesMadeBy(const SessionReader& reader);

// normalise() of a TempNames that learned nothing: the shape rule alone.
std::string normaliseNames(std::string_view text);

// One exec: the command line (argv, shell-quoted, names normalised) and how the
// program ended: "exit N", "signal N", "exec" (it exec'd another program, which has its
// own entry) or "running" (no exit recorded).
struct ExecRecord {
  std::string command;
  std::string status;
  uint64_t seq = 0;      // the exec event
  uint32_t pid = 0;
  uint64_t tNs = 0;      // CLOCK_MONOTONIC
};

// The successful changes a run made to one path (normalised).
struct FileEffect {
  std::string path;
  bool created = false;     // opened with O_CREAT (existed or not: open(2) does not say)
  bool truncated = false;   // opened with O_TRUNC, or truncate(2)d
  uint64_t bytesWritten = 0;
  bool deleted = false;
  bool madeDir = false, removedDir = false, chmodded = false, chowned = false, linked = false;
  std::vector<std::string> renamedTo, renamedFrom;   // normalised other paths
  std::vector<uint64_t> seqs;                        // the events, in order

  // "created, truncated, 31 bytes written, renamed to /x" (canonical, for comparing).
  std::string describe() const;
};

struct PeerRecord {
  std::string peer;          // "1.2.3.4:443", "[::1]:8080", an AF_UNIX path
  uint64_t connects = 0;
  std::vector<uint64_t> seqs;
};

struct RunSummary {
  std::string path;
  std::vector<ExecRecord> execs;                 // in seq order
  std::map<std::string, FileEffect> files;       // by normalised path
  std::map<std::string, PeerRecord> peers;       // by peer
  std::vector<traffic::LlmCall> calls;           // client-side calls, in start order
  std::vector<size_t> callIndex;                 // calls[i] is `aa-session llm` call callIndex[i]
  // Cause and effect (tool_effects.h): event seq -> "llm call N tool T NAME (by)".
  std::map<uint64_t, std::string> causes;
  // The same causes as (N, T): the call, as `aa-session llm` numbers it, and its tool call.
  std::map<uint64_t, std::pair<size_t, size_t>> causeCalls;
  TempNames tempNames;                           // what the run's own temp names are
};

// The fields of an LLM call that are compared, in report order.
inline constexpr const char* kLlmFields[] = {"model",       "system",   "tools",
                                             "messages",    "answer",   "thinking",
                                             "tool_calls",  "stop_reason", "status",
                                             "error"};

struct DiffOptions {
  bool normaliseNames = true;          // temp names and /proc/PID (false: --exact-names)
  bool defaultIgnores = true;          // kDefaultIgnores (false: --no-default-ignores)
  std::vector<std::string> ignore;     // "exec:GLOB", "file:GLOB", "peer:GLOB", "llm:FIELD"
};

// Always-applied ignore patterns unless DiffOptions.defaultIgnores is false.
inline constexpr const char* kDefaultIgnores[] = {"file:/dev/*", "file:/proc/*", "file:/sys/*"};

// Checks the ignore patterns: each must be AREA:PATTERN with a known area (and, for llm,
// a field from kLlmFields).
Status validateIgnores(const std::vector<std::string>& patterns);

struct Difference {
  std::string area;      // "exec", "file", "peer", "llm"
  std::string change;    // "added" (only in B), "removed" (only in A), "changed"
  std::string subject;   // the command line, path, peer, or "call N" (A's index; B's for added)
  std::string field;     // what changed: "status", "effects", "messages[2].content", ...
  std::string a, b;      // the values in A and in B ("" when absent)
  std::vector<uint64_t> seqsA, seqsB;   // events of A and B (for llm: tStartNs of the call)
  std::optional<size_t> callA, callB;   // llm: indexes as `aa-session llm` numbers them
  std::string causeA, causeB;           // exec/file: the tool call it followed from, if known
};

struct SessionDiff {
  std::vector<Difference> differences;   // exec, file, peer, llm; in that order
  size_t execsA = 0, execsB = 0, filesA = 0, filesB = 0, peersA = 0, peersB = 0;
  size_t callsA = 0, callsB = 0;
  bool same() const { return differences.empty(); }
};

// Reads the run's behaviour: one pass over its events, plus its traffic (loadTraffic).
StatusOr<RunSummary> summarizeRun(const SessionReader& reader, const DiffOptions& options);

// Compares two summaries.
SessionDiff diffRuns(const RunSummary& a, const RunSummary& b, const DiffOptions& options);

// The tool call (N, T) behind the events `seqs` of `run`: the cause that a Difference's
// causeA / causeB names when these are its seqsA / seqsB; nullopt when none has one.
std::optional<std::pair<size_t, size_t>> causeCallOf(const RunSummary& run,
                                                     const std::vector<uint64_t>& seqs);

// Where two JSON values first differ, as a path from `root` ("messages[1].content"), with
// both values there (compact JSON, cut at maxValue bytes). nullopt when equal.
struct JsonDifference {
  std::string path;
  std::string a, b;     // "" when absent on that side
};
std::optional<JsonDifference> firstJsonDifference(const traffic::Json& a,
                                                  const traffic::Json& b,
                                                  const std::string& root,
                                                  size_t maxValue = 240);
// The same on JSON text: texts that do not parse are compared as strings.
std::optional<JsonDifference> firstJsonTextDifference(std::string_view a, std::string_view b,
                                                      const std::string& root,
                                                      size_t maxValue = 240);

// Text (one line per difference, then a summary line) and JSON (one object) renderings.
std::string diffText(const SessionDiff& d);
std::string diffJson(const SessionDiff& d, const RunSummary& a, const RunSummary& b);

}  // namespace aa::diff
