// The deterministic counterpart of the fuzz target, always built: valid sessions with
// systematic damage (bit flips across every header field and into payloads, truncation,
// overwritten ranges, spliced and duplicated frames, absurd lengths) fed to the reader.
// It must neither crash nor hang (ctest's timeout), and must keep every whole frame before
// the damage.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "store/synth/synth.h"
#include "tests/cli/all_kinds_session.h"
#include "tests/cli/test_dir.h"
#include "tests/fuzz/reader_fuzz_one.h"

namespace aa {
namespace {

using testing::TempDir;

uint64_t feed(const std::string& bytes) {
  return fuzz::readSessionBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

class ReaderMutation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::writeAllKindsSession(dir_.file("all.aas"), 3).ok());
    SynthOptions o;
    o.events = 1500;
    o.seed = 2;
    WriterOptions w;
    w.batchEvents = 256;
    ASSERT_TRUE(writeSynthSession(dir_.file("synth.aas"), o, w).ok());
    for (const char* name : {"all.aas", "synth.aas"}) {
      std::string bytes = testing::readFile(dir_.file(name));
      ReaderOptions opts;
      opts.useIndex = false;
      auto r = SessionReader::open(dir_.file(name), opts);
      ASSERT_TRUE(r.ok());
      sessions_.push_back({bytes, (*r)->frames()});
    }
  }
  void TearDown() override { fuzz::removeScratch(); }

  struct Session {
    std::string bytes;
    std::vector<FrameInfo> frames;
  };
  TempDir dir_;
  std::vector<Session> sessions_;
};

TEST_F(ReaderMutation, IntactSessionsReadInFull) {
  EXPECT_EQ(feed(sessions_[0].bytes), uint64_t(testing::kAllKindsCount));
  EXPECT_EQ(feed(sessions_[1].bytes), 1500u);
}

TEST_F(ReaderMutation, BitFlipsEverywhereInTheSmallSession) {
  const std::string& good = sessions_[0].bytes;
  auto start = std::chrono::steady_clock::now();
  // Every byte, one bit each (rotating), so every header field and payload byte is hit.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= static_cast<char>(1u << (i % 8));
    uint64_t n = feed(bad);
    EXPECT_LE(n, uint64_t(testing::kAllKindsCount)) << "flip at " << i;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

uint64_t feedFixed(const std::string& bytes) {
  return fuzz::readSessionBytesFixed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

TEST_F(ReaderMutation, ChecksumsFixedLeaveIntactSessionsWhole) {
  EXPECT_EQ(feedFixed(sessions_[0].bytes), uint64_t(testing::kAllKindsCount));
  EXPECT_EQ(feedFixed(sessions_[1].bytes), 1500u);
}

// With every checksum made right after the damage, each flipped bit reaches the frame
// decoders, Cap'n Proto and the event consumers (index, JSON) — the paths a CRC check
// otherwise shields from mutation testing, and where a crafted file does its harm.
TEST_F(ReaderMutation, BitFlipsWithChecksumsFixedReachTheDecoders) {
  const std::string& good = sessions_[0].bytes;
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned bitNo : {i % 8, (i + 3) % 8}) {
      std::string bad = good;
      bad[i] ^= static_cast<char>(1u << bitNo);
      uint64_t n = feedFixed(bad);
      EXPECT_LE(n, uint64_t(testing::kAllKindsCount) + 64) << "flip at " << i;
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(90));
}

TEST_F(ReaderMutation, LengthFieldsWithChecksumsFixed) {
  for (const Session& s : sessions_) {
    // Every frame, the footer included (the one after the last batch frame).
    std::vector<uint64_t> offsets;
    for (const FrameInfo& fr : s.frames) offsets.push_back(fr.offset);
    offsets.push_back(s.frames.back().offset + s.frames.back().length);
    for (uint64_t off : offsets) {
      if (off + 48 > s.bytes.size()) continue;
      for (uint32_t v : {0u, 8u, 1u << 16, 1u << 20, 1u << 29, 0xfffffff8u}) {
        for (size_t field : {size_t(8), size_t(12)}) {
          for (uint16_t flags : {uint16_t(0), uint16_t(1)}) {
            std::string bad = s.bytes;
            std::memcpy(&bad[off + field], &v, 4);
            std::memcpy(&bad[off + 6], &flags, 2);
            EXPECT_LE(feedFixed(bad), 1500u);
          }
        }
      }
    }
  }
}

TEST_F(ReaderMutation, TruncationKeepsWholeFramesBefore) {
  const Session& s = sessions_[1];
  for (size_t f = 0; f < s.frames.size(); ++f) {
    const FrameInfo& fr = s.frames[f];
    for (uint64_t cut : {fr.offset, fr.offset + 1, fr.offset + 47, fr.offset + 48,
                         fr.offset + fr.length / 2, fr.offset + fr.length - 1}) {
      uint64_t n = feed(s.bytes.substr(0, cut));
      EXPECT_EQ(n, fr.firstSeq) << "cut at " << cut << " in frame " << f;
    }
  }
  for (size_t cut : {size_t(0), size_t(1), size_t(8), size_t(23), size_t(24), size_t(100)})
    EXPECT_EQ(feed(s.bytes.substr(0, cut)), 0u) << cut;
}

TEST_F(ReaderMutation, OverwrittenRangesAndAbsurdLengths) {
  const Session& s = sessions_[1];
  uint64_t seed = 0x1234;
  auto rnd = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed >> 33;
  };
  for (int round = 0; round < 150; ++round) {
    std::string bad = s.bytes;
    size_t at = rnd() % bad.size();
    size_t len = 1 + rnd() % 64;
    for (size_t k = at; k < std::min(bad.size(), at + len); ++k)
      bad[k] = static_cast<char>(round % 3 == 0 ? 0 : round % 3 == 1 ? 0xff : rnd());
    EXPECT_LE(feed(bad), 1500u);
  }
  // Length fields (frame header bytes 8..15) set to huge and to zero in every frame.
  for (const FrameInfo& fr : s.frames) {
    for (uint32_t v : {0u, 1u, 0x7fffffffu, 0xffffffffu}) {
      std::string bad = s.bytes;
      std::memcpy(&bad[fr.offset + 8], &v, 4);
      EXPECT_LE(feed(bad), 1500u);
      std::string bad2 = s.bytes;
      std::memcpy(&bad2[fr.offset + 12], &v, 4);
      EXPECT_LE(feed(bad2), 1500u);
    }
  }
}

TEST_F(ReaderMutation, SplicedAndDuplicatedFrames) {
  const Session& s = sessions_[1];
  ASSERT_GE(s.frames.size(), 3u);
  const FrameInfo& a = s.frames[0];
  const FrameInfo& b = s.frames[1];
  std::string frameA = s.bytes.substr(a.offset, a.length);
  // A frame repeated: seq goes backwards.
  std::string dup = s.bytes.substr(0, b.offset) + frameA + s.bytes.substr(b.offset);
  EXPECT_LE(feed(dup), 1500u + a.count);
  // A frame dropped: a gap in seq.
  std::string gap = s.bytes.substr(0, b.offset) + s.bytes.substr(b.offset + b.length);
  EXPECT_LE(feed(gap), 1500u);
  // Frames of one session after the header of another.
  const Session& o = sessions_[0];
  std::string mixed = o.bytes.substr(0, o.frames[0].offset) + s.bytes.substr(a.offset);
  EXPECT_LE(feed(mixed), 1500u);
  // Garbage, zeros and a lone header.
  EXPECT_EQ(feed(std::string(4096, '\0')), 0u);
  EXPECT_EQ(feed(s.bytes.substr(0, a.offset)), 0u);
  EXPECT_EQ(feed(s.bytes.substr(0, a.offset) + std::string(4096, '\xff')), 0u);
}

}  // namespace
}  // namespace aa
