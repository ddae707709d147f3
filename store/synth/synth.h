// Deterministic synthetic sessions: a realistic mix of what an agent's process tree does
// (a root agent process forking and exec'ing tools, file activity with per-call reads and
// writes, renames/unlinks/mkdirs, connects, TLS exchanges with HTTP-looking LLM requests
// and streamed responses, the occasional binary download, a few lost-event reports),
// for benchmarks, viewer tests and fixtures. The same seed gives the same events, and
// through the same writer options the same file bytes apart from the header's session
// id, host, kernel and wall time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "schema/events.capnp.h"
#include "store/session_meta.h"
#include "store/session_writer.h"
#include "store/status.h"

namespace aa {

struct SynthOptions {
  uint64_t events = 10000;
  uint64_t seed = 1;
  bool tlsPayloads = true;          // false: TLS events keep their lengths, carry no bytes
  uint64_t startMonoNs = 1'000'000'000'000ull;   // fixed, so event times are reproducible
};

// Generates events one at a time into builders the caller provides (SessionWriter::append
// in practice). Times start at startMonoNs and never decrease.
class SynthGenerator {
 public:
  explicit SynthGenerator(const SynthOptions& options);
  ~SynthGenerator();
  SynthGenerator(const SynthGenerator&) = delete;
  SynthGenerator& operator=(const SynthGenerator&) = delete;

  // Produces `count` more events; `append` returns the builder for each new event (its
  // seq already set).
  void generate(uint64_t count, const std::function<schema::Event::Builder()>& append);

  uint64_t generated() const;
  uint64_t lastTNs() const;
  uint64_t tlsPayloadBytes() const;                 // captured TLS bytes emitted
  std::vector<LostCountInfo> lostTotals() const;    // per probe, as a footer holds them
  SessionHeaderInfo header() const;                 // startMono fixed, wall time = now

  struct State;

 private:
  std::unique_ptr<State> s_;
};

struct SynthResult {
  uint64_t events = 0;
  uint64_t fileBytes = 0;
  uint64_t tlsPayloadBytes = 0;
};

// Writes a complete synthetic session (header, events, clean-stop footer) to path.
StatusOr<SynthResult> writeSynthSession(const std::string& path, const SynthOptions& options,
                                        WriterOptions writerOptions = {});

}  // namespace aa
