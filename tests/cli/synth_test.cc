#include "store/synth/synth.h"

#include <capnp/message.h>

#include <gtest/gtest.h>

#include "store/session_reader.h"
#include "tests/cli/test_dir.h"

namespace aa {
namespace {

using testing::TempDir;

// The log bytes from the second frame up to the footer: everything but the header (session
// id, host, wall time), the first frame (which carries a copy of the header) and the
// footer (end wall time).
std::string eventBytes(const std::string& path) {
  auto r = SessionReader::open(path);
  EXPECT_TRUE(r.ok()) << r.status().message();
  const auto& frames = (*r)->frames();
  if (frames.size() < 2) return "";
  std::string all = testing::readFile(path);
  uint64_t begin = frames[1].offset, end = frames.back().offset + frames.back().length;
  return all.substr(begin, end - begin);
}

TEST(Synth, SameSeedSameBytes) {
  TempDir dir;
  SynthOptions o;
  o.events = 30000;
  o.seed = 11;
  ASSERT_TRUE(writeSynthSession(dir.file("a.aas"), o).ok());
  ASSERT_TRUE(writeSynthSession(dir.file("b.aas"), o).ok());
  std::string a = eventBytes(dir.file("a.aas"));
  EXPECT_GT(a.size(), 100000u);
  EXPECT_TRUE(a == eventBytes(dir.file("b.aas")));
  o.seed = 12;
  ASSERT_TRUE(writeSynthSession(dir.file("c.aas"), o).ok());
  EXPECT_FALSE(a == eventBytes(dir.file("c.aas")));
}

TEST(Synth, RealisticMixAndConsistency) {
  TempDir dir;
  SynthOptions o;
  o.events = 60000;
  o.seed = 5;
  auto res = writeSynthSession(dir.file("s.aas"), o);
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->events, 60000u);
  auto r = SessionReader::open(dir.file("s.aas"));
  ASSERT_TRUE(r.ok());
  const SessionReader& reader = **r;
  EXPECT_EQ(reader.eventCount(), 60000u);
  ASSERT_TRUE(reader.footer().has_value());
  EXPECT_TRUE(reader.footer()->cleanStop);
  auto totals = reader.kindTotals();
  for (int k = 0; k < kKindCount; ++k)
    EXPECT_GT(totals[k], 0u) << "no " << kindName(static_cast<Kind>(k)) << " events";
  // File activity dominates, as it does for real agents; process events are rare.
  uint64_t file = 0;
  for (Kind k : {Kind::kFileOpen, Kind::kFileClose, Kind::kFileRead, Kind::kFileWrite})
    file += totals[static_cast<int>(k)];
  EXPECT_GT(file, 60000u / 2);
  EXPECT_LT(totals[static_cast<int>(Kind::kExec)], 60000u / 50);
  // The first event is the exec of the recorded command; times never go back; forks
  // are followed by their child's exec.
  uint64_t lastT = 0, seq = 0;
  bool first = true;
  uint64_t lost = 0;
  Status st = reader.forEach(EventQuery{}, [&](schema::Event::Reader e) {
    if (first) {
      EXPECT_EQ(kindOf(e), Kind::kExec);
      first = false;
    }
    EXPECT_GE(e.getTNs(), lastT);
    EXPECT_EQ(e.getSeq(), seq++);
    lastT = e.getTNs();
    if (kindOf(e) == Kind::kLost) lost += e.getLost().getCount();
    return true;
  });
  ASSERT_TRUE(st.ok());
  uint64_t footerLost = 0;
  for (const auto& l : reader.footer()->lost) footerLost += l.count;
  EXPECT_EQ(lost, footerLost);
  auto procs = reader.processes();
  ASSERT_FALSE(procs.empty());
  EXPECT_GT(reader.tlsConnections().size(), 0u);
  EXPECT_GT(res->tlsPayloadBytes, 0u);
}

TEST(Synth, WithoutTlsPayloadsKeepsLengths) {
  TempDir dir;
  SynthOptions o;
  o.events = 20000;
  o.tlsPayloads = false;
  auto res = writeSynthSession(dir.file("n.aas"), o);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->tlsPayloadBytes, 0u);
  auto r = SessionReader::open(dir.file("n.aas"));
  ASSERT_TRUE(r.ok());
  EventQuery q;
  q.kinds = bit(Kind::kTlsWrite) | bit(Kind::kTlsRead);
  size_t n = 0;
  Status read = (*r)->forEach(q, [&](schema::Event::Reader e) {
    EXPECT_EQ(e.getTls().getData().size(), 0u);
    EXPECT_GT(e.getTls().getLength(), 0u);
    ++n;
    return true;
  });
  EXPECT_TRUE(read.ok()) << read.message();
  EXPECT_GT(n, 0u);
  // Only the payload bytes differ: the same events, kinds and TLS lengths.
  o.tlsPayloads = true;
  ASSERT_TRUE(writeSynthSession(dir.file("t.aas"), o).ok());
  auto t = SessionReader::open(dir.file("t.aas"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->kindTotals(), (*r)->kindTotals());
  std::vector<uint64_t> withLengths, withoutLengths;
  auto lengths = [&](const SessionReader& reader, std::vector<uint64_t>& out) {
    (void)reader.forEach(q, [&](schema::Event::Reader e) {   // counts compared below
      out.push_back(e.getTls().getLength());
      return true;
    });
  };
  lengths(**t, withLengths);
  lengths(**r, withoutLengths);
  EXPECT_EQ(withLengths, withoutLengths);
}

TEST(Synth, GeneratesExactCountsInSlices) {
  SynthOptions o;
  SynthGenerator gen(o);
  capnp::MallocMessageBuilder msg;
  auto list = msg.initRoot<schema::Batch>().initEvents(1000);
  uint32_t i = 0;
  std::function<schema::Event::Builder()> append = [&] { return list[i++]; };
  gen.generate(400, append);
  gen.generate(600, append);
  EXPECT_EQ(i, 1000u);
  EXPECT_EQ(gen.generated(), 1000u);
}

}  // namespace
}  // namespace aa
