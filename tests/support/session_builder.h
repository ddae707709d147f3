// The one way tests write a session: a SessionWriter with a fixed, known header (the
// command, a monotonic start and its wall clock) and events appended with their common
// fields (time, pid, tid, comm) set. The suites' own sessions (tests/cli/all_kinds_session.h,
// tests/viewer/test_session.h and llm_session.h, tests/replay/agent_run.h, the traffic
// session tests, tests/store/random_events.h) are built on it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/session_writer.h"

namespace aa::test_support {

inline capnp::Data::Reader bytes(std::string_view s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}

struct SessionOptions {
  std::vector<std::string> command = {"python3", "agent.py"};
  uint64_t startMonoNs = 5'000'000'000ull;
  int64_t startWallNs = 1'700'000'000'000'000'000;
  uint32_t batchEvents = 8;
  bool useIoUring = true;   // false: the portable pwrite writer
  std::string target = "command";
  // Every writer option, for tests of the writer itself (batchEvents and useIoUring
  // above are then not used).
  std::optional<WriterOptions> writer;
};

class SessionBuilder {
 public:
  SessionBuilder(const std::string& path, const SessionOptions& o = {}) {
    SessionHeaderInfo h;
    h.command = o.command;
    h.startMonoNs = o.startMonoNs;
    h.startWallNs = o.startWallNs;
    h.clockOffsetNs = o.startWallNs - int64_t(o.startMonoNs);
    h.target = o.target;
    WriterOptions w;
    w.batchEvents = o.batchEvents;
    w.useIoUring = o.useIoUring;
    if (o.writer) w = *o.writer;
    auto created = SessionWriter::create(path, h, w);
    if (created.ok()) writer_ = std::move(created.value());
    else status_ = created.status();
  }

  // Why the session could not be created (ok() when it was).
  const Status& status() const { return status_; }
  SessionWriter& writer() { return *writer_; }

  // An event at CLOCK_MONOTONIC `tNs` of `pid` (thread `tid`, the pid when 0).
  schema::Event::Builder event(uint64_t tNs, uint32_t pid, std::string_view comm, uint32_t tid = 0) {
    auto e = writer_->append();
    e.setTNs(tNs);
    e.setPid(pid);
    e.setTid(tid ? tid : pid);
    e.setComm(bytes(comm));
    return e;
  }

  // Writes the footer (a clean stop).
  Status close(SessionFooterInfo footer = {}) { return writer_->close(std::move(footer)); }
  // Ends the writer without a footer, as a crash would (whole frames only).
  void abandon() { writer_.reset(); }

 private:
  std::unique_ptr<SessionWriter> writer_;
  Status status_;
};

}  // namespace aa::test_support
