// Store benchmarks: what the session writer costs against plain write(2) of the same
// bytes, how fast a full scan decodes, what a 1% time window touches through the index,
// and how many bytes an event takes on disk.
//
// Sessions are synthetic (store/synth/synth.h). Files go to $AA_BENCH_DIR (default
// BUILD/aa-bench-data: hundreds of MB, kept out of the source tree, on the disk the
// build is on); the 10M-event session is kept there between runs and regenerated when
// missing or different.
//
//   build/store_bench --benchmark_counters_tabular=true
#include <fcntl.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <capnp/message.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "store/synth/synth.h"
#include "store/session_reader.h"
#include "store/session_writer.h"

namespace aa {
namespace {

constexpr uint64_t kWriteEvents = 1'000'000;
constexpr uint64_t kBigEvents = 10'000'000;

const std::string& benchDir() {
  static const std::string dir = [] {
    const char* env = std::getenv("AA_BENCH_DIR");
    std::string d = env && *env ? env : AA_BENCH_DEFAULT_DIR;
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

void removeSession(const std::string& path) {
  for (const char* suffix : {"", "-index", "-index-wal", "-index-shm"}) ::unlink((path + suffix).c_str());
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

// A synthetic session kept on disk between runs; (re)written when absent or different.
const std::string& cachedSession(uint64_t events, bool tlsPayloads) {
  static std::map<std::pair<uint64_t, bool>, std::string> paths;
  auto key = std::make_pair(events, tlsPayloads);
  if (auto it = paths.find(key); it != paths.end()) return it->second;
  std::string path = benchDir() + "/synth-" + std::to_string(events) +
                     (tlsPayloads ? "-tls" : "-notls") + "-seed1.aas";
  bool ok = false;
  if (std::filesystem::exists(path)) {
    auto r = SessionReader::open(path);
    ok = r.ok() && (*r)->eventCount() == events && (*r)->footer() && (*r)->damage().ok();
  }
  if (!ok) {
    std::fprintf(stderr, "store_bench: writing %s ...\n", path.c_str());
    SynthOptions o;
    o.events = events;
    o.seed = 1;
    o.tlsPayloads = tlsPayloads;
    auto res = writeSynthSession(path, o);
    if (!res.ok()) die(res.status().message());
  }
  return paths[key] = path;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The baseline: the bytes of a session written by SessionWriter, written again with plain
// sequential write(2) in 1 MiB calls, with the writer's default sync policy (fdatasync
// every 8 MiB and at the end), to a file in the same directory.
void BM_RawWrite(benchmark::State& state) {
  const bool tls = state.range(0) != 0;
  static std::map<bool, std::string> contents;
  if (!contents.count(tls)) contents[tls] = readAll(cachedSession(kWriteEvents, tls));
  const std::string& bytes = contents[tls];
  const std::string path = benchDir() + "/rawwrite.bin";
  const uint64_t syncEvery = WriterOptions{}.fsyncEveryBytes;
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die(path + ": open failed");
    uint64_t sinceSync = 0;
    for (size_t off = 0; off < bytes.size();) {
      size_t n = std::min<size_t>(1 << 20, bytes.size() - off);
      ssize_t w = ::write(fd, bytes.data() + off, n);
      if (w <= 0) die(path + ": write failed");
      off += w;
      sinceSync += w;
      if (syncEvery && sinceSync >= syncEvery) {
        ::fdatasync(fd);
        sinceSync = 0;
      }
    }
    ::fdatasync(fd);
    ::close(fd);
  }
  ::unlink(path.c_str());
  state.SetBytesProcessed(int64_t(bytes.size()) * state.iterations());
  state.SetItemsProcessed(int64_t(kWriteEvents) * state.iterations());
}
BENCHMARK(BM_RawWrite)->ArgName("tls")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// Events built by the synthetic generator straight into SessionWriter batches: Cap'n
// Proto building, zstd, io_uring writes, the index, the footer, fsyncs. Bytes are file
// bytes, as for BM_RawWrite.
void BM_SessionWrite(benchmark::State& state) {
  const bool tls = state.range(0) != 0;
  const std::string path = benchDir() + "/sessionwrite.aas";
  uint64_t fileBytes = 0, rawBytes = 0;
  for (auto _ : state) {
    SynthOptions o;
    o.events = kWriteEvents;
    o.seed = 1;
    o.tlsPayloads = tls;
    SynthGenerator gen(o);
    auto w = SessionWriter::create(path, gen.header());
    if (!w.ok()) die(w.status().message());
    SessionWriter& writer = **w;
    std::function<schema::Event::Builder()> append = [&] { return writer.append(); };
    gen.generate(kWriteEvents, append);
    Status st = writer.close();
    if (!st.ok()) die(st.message());
    fileBytes = writer.stats().bytesWritten;
    rawBytes = writer.stats().rawPayloadBytes;
  }
  removeSession(path);
  state.SetBytesProcessed(int64_t(fileBytes) * state.iterations());
  state.SetItemsProcessed(int64_t(kWriteEvents) * state.iterations());
  state.counters["B/event"] = double(fileBytes) / kWriteEvents;
  state.counters["raw_B/event"] = double(rawBytes) / kWriteEvents;
}
BENCHMARK(BM_SessionWrite)->ArgName("tls")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// The generator alone (into a reused message), to separate its cost from the writer's.
void BM_SynthGenerate(benchmark::State& state) {
  SynthOptions o;
  o.events = kWriteEvents;
  o.tlsPayloads = state.range(0) != 0;
  constexpr uint32_t kBatch = 4096;
  for (auto _ : state) {
    SynthGenerator gen(o);
    std::unique_ptr<capnp::MallocMessageBuilder> msg;
    capnp::List<schema::Event>::Builder list = nullptr;
    uint32_t used = kBatch;
    uint64_t seq = 0;
    std::function<schema::Event::Builder()> append = [&] {
      if (used == kBatch) {
        msg = std::make_unique<capnp::MallocMessageBuilder>();
        list = msg->initRoot<schema::Batch>().initEvents(kBatch);
        used = 0;
      }
      auto e = list[used++];
      e.setSeq(seq++);
      return e;
    };
    gen.generate(kWriteEvents, append);
    benchmark::DoNotOptimize(seq);
  }
  state.SetItemsProcessed(int64_t(kWriteEvents) * state.iterations());
}
BENCHMARK(BM_SynthGenerate)->ArgName("tls")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// Full decode of every event of the 10M-event session, in order, on one thread.
void BM_SessionScan(benchmark::State& state) {
  const bool tls = state.range(0) != 0;
  const uint64_t events = tls ? kWriteEvents : kBigEvents;
  auto r = SessionReader::open(cachedSession(events, tls));
  if (!r.ok()) die(r.status().message());
  const SessionReader& reader = **r;
  uint64_t n = 0, sum = 0;
  for (auto _ : state) {
    Status st = reader.forEach(EventQuery{}, [&](schema::Event::Reader e) {
      sum += e.getSeq() + static_cast<uint64_t>(kindOf(e));
      ++n;
      return true;
    });
    if (!st.ok()) die(st.message());
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(int64_t(n));
  state.SetBytesProcessed(int64_t(reader.fileSize()) * state.iterations());
  state.counters["events"] = double(reader.eventCount());
  state.counters["B/event"] = double(reader.fileSize()) / reader.eventCount();
}
BENCHMARK(BM_SessionScan)->ArgName("tls")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// A 1% time window in the middle of the 10M-event session, through the index: how long,
// and how much of the file it had to touch (frames it selected, bytes it decoded).
void BM_IndexedQuery(benchmark::State& state) {
  auto r = SessionReader::open(cachedSession(kBigEvents, false));
  if (!r.ok()) die(r.status().message());
  const SessionReader& reader = **r;
  EventQuery q;
  uint64_t d = reader.durationNs();
  q.fromNs = d / 2;
  q.toNs = d / 2 + d / 100;
  uint64_t n = 0, matched = 0;
  uint64_t decodedBefore = reader.bytesDecoded();
  for (auto _ : state) {
    matched = 0;
    Status st = reader.forEach(q, [&](schema::Event::Reader e) {
      ++matched;
      return true;
    });
    if (!st.ok()) die(st.message());
    n += matched;
  }
  uint64_t decoded = (reader.bytesDecoded() - decodedBefore) / std::max<uint64_t>(1, state.iterations());
  uint64_t frameBytes = 0;
  auto frames = reader.framesFor(q);
  for (size_t i : frames) frameBytes += reader.frames()[i].length;
  state.SetItemsProcessed(int64_t(n));
  state.counters["matched"] = double(matched);
  state.counters["frames"] = double(frames.size());
  state.counters["of_frames"] = double(reader.frames().size());
  state.counters["file_frac_%"] = 100.0 * frameBytes / reader.fileSize();
  state.counters["decoded_frac_%"] = 100.0 * decoded / reader.fileSize();
  state.counters["event_frac_%"] = 100.0 * matched / reader.eventCount();
}
BENCHMARK(BM_IndexedQuery)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Bytes per event on disk for the synthetic mix without TLS payloads, by zstd level,
// for the store's encoding decisions.
void BM_EncodedSize(benchmark::State& state) {
  const std::string path = benchDir() + "/encodedsize.aas";
  WriterOptions w;
  w.zstdLevel = int(state.range(0));
  w.writeIndex = false;
  uint64_t fileBytes = 0;
  for (auto _ : state) {
    SynthOptions o;
    o.events = kWriteEvents;
    o.tlsPayloads = false;
    auto res = writeSynthSession(path, o, w);
    if (!res.ok()) die(res.status().message());
    fileBytes = res->fileBytes;
  }
  removeSession(path);
  state.SetItemsProcessed(int64_t(kWriteEvents) * state.iterations());
  state.counters["B/event"] = double(fileBytes) / kWriteEvents;
}
BENCHMARK(BM_EncodedSize)->ArgName("zstd")->Arg(1)->Arg(3)->Arg(9)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace aa

BENCHMARK_MAIN();
