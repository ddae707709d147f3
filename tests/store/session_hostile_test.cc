// Hostile and damaged logs that once crashed or misled the reader: a crafted footer with
// valid checksums, damage made after indexing, deleted index rows, impossible sequence
// numbers, a footer in mid-file and a damaged file header. Every one must be read safely,
// report the damage, and keep every whole frame.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "random_events.h"
#include "store/format.h"
#include "store/session_reader.h"

namespace aa {
namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
// Rewrites bytes in place, as dd conv=notrunc does (the index stays beside the log).
void patchInPlace(const std::string& p, const std::string& data) {
  std::fstream f(p, std::ios::binary | std::ios::in | std::ios::out);
  f.write(data.data(), data.size());
}
void removeSession(const std::string& p) {
  for (const char* s : {"", "-index", "-index-wal", "-index-shm"}) unlink((p + s).c_str());
}

// Recomputes the CRC of the frame at `off` after its header or payload was changed.
void fixFrameCrc(std::string& bytes, uint64_t off) {
  auto* p = reinterpret_cast<uint8_t*>(bytes.data()) + off;
  auto h = format::decodeFrameHeader(p);
  ASSERT_TRUE(h.has_value());
  uint64_t avail = bytes.size() - off - format::kFrameHeaderSize;
  h->crc = format::frameCrc(p, p + format::kFrameHeaderSize, std::min<uint64_t>(h->storedLen, avail));
  format::encodeFrameHeader(*h, p);
}

struct Written {
  std::string path, bytes;
  std::vector<FrameInfo> frames;
  uint64_t footerOffset = 0;
};

Written write(const std::string& name, size_t events = 400, uint32_t batch = 37) {
  Written w;
  w.path = test::tempPath(name);
  WriterOptions opt;
  opt.batchEvents = batch;
  test::writeRandomSession(w.path, events, 5, opt);
  w.bytes = slurp(w.path);
  auto r = SessionReader::open(w.path, {.useIndex = false});
  EXPECT_TRUE(r.ok());
  w.frames = r.value()->frames();
  w.footerOffset = w.frames.back().offset + w.frames.back().length;
  return w;
}

uint64_t countEvents(const SessionReader& r) {
  uint64_t n = 0;
  (void)r.forEach({}, [&](auto) { ++n; return true; });
  return n;
}

TEST(Hostile, CraftedFooterLengthsDoNotCrashAnyReader) {
  Written w = write("footer.aas");
  std::string bad = w.path + ".bad";
  for (uint32_t raw : {1u << 20, 1u << 29, 8u, 0u}) {
    for (uint16_t flags : {uint16_t(format::kFlagZstd), uint16_t(0)}) {
      std::string b = w.bytes;
      auto* p = reinterpret_cast<uint8_t*>(b.data()) + w.footerOffset;
      auto h = format::decodeFrameHeader(p);
      ASSERT_TRUE(h && h->type == format::kFrameFooter);
      h->flags = flags;
      h->rawLen = raw;
      if (!flags) h->storedLen = raw;   // raw frames must agree; this one lies about both
      format::encodeFrameHeader(*h, p);
      fixFrameCrc(b, w.footerOffset);
      std::ofstream(bad, std::ios::binary | std::ios::trunc) << b;
      for (bool useIndex : {false, true}) {
        auto r = SessionReader::open(bad, {.useIndex = useIndex});
        ASSERT_TRUE(r.ok()) << r.status().message();
        EXPECT_EQ(r.value()->eventCount(), 400u);
        EXPECT_EQ(countEvents(*r.value()), 400u);
        if (raw != h->storedLen || flags) {
          EXPECT_FALSE(r.value()->footer().has_value()) << raw << " " << flags;
          EXPECT_FALSE(r.value()->damage().ok()) << raw << " " << flags;
        }
      }
    }
  }
  removeSession(bad);
  removeSession(w.path);
}

TEST(Hostile, BatchFrameWithLyingRawLengthIsSkipped) {
  Written w = write("rawlen.aas");
  const FrameInfo& victim = w.frames[2];
  std::string b = w.bytes;
  auto* p = reinterpret_cast<uint8_t*>(b.data()) + victim.offset;
  auto h = format::decodeFrameHeader(p);
  h->flags |= format::kFlagZstd;
  h->rawLen = 1u << 28;
  format::encodeFrameHeader(*h, p);
  fixFrameCrc(b, victim.offset);
  std::string bad = w.path + ".bad";
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << b;
  auto r = SessionReader::open(bad, {.useIndex = false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->eventCount(), 400u - victim.count);
  EXPECT_FALSE(r.value()->damage().ok());
  removeSession(bad);
  removeSession(w.path);
}

TEST(Hostile, DamageAfterIndexingIsDetectedReportedAndRebuilt) {
  Written w = write("after.aas");
  {
    auto r = SessionReader::open(w.path);   // the writer's index is used as is
    ASSERT_TRUE(r.ok());
    ASSERT_FALSE(r.value()->indexRebuilt());
  }
  // Give the file's mtime a chance to move on coarse-clock filesystems.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const FrameInfo& victim = w.frames[3];
  std::string b = w.bytes;
  b[victim.offset + 60] ^= 0x5a;   // in the payload: the frame header still looks right
  patchInPlace(w.path, b);

  auto fresh = SessionReader::open(w.path, {.useIndex = false});
  ASSERT_TRUE(fresh.ok());
  uint64_t expected = countEvents(*fresh.value());
  EXPECT_EQ(expected, 400u - victim.count);

  auto r = SessionReader::open(w.path);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value()->indexRebuilt()) << "the index no longer describes the log";
  EXPECT_FALSE(r.value()->damage().ok()) << "info must not say 'damage: none'";
  EXPECT_EQ(r.value()->eventCount(), expected);
  EXPECT_EQ(countEvents(*r.value()), expected);
  removeSession(w.path);
}

TEST(Hostile, DamageMetAfterOpeningSkipsTheFrameAndIsReported) {
  Written w = write("late.aas");
  auto r = SessionReader::open(w.path);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.value()->damage().ok());
  const FrameInfo& victim = w.frames[5];
  std::string b = w.bytes;
  b[victim.offset + 64] ^= 0x11;
  patchInPlace(w.path, b);
  // The mapping shows the change; the frame fails its checksum when first decoded.
  EXPECT_EQ(countEvents(*r.value()), 400u - victim.count) << "later frames are still read";
  EXPECT_FALSE(r.value()->damage().ok());
  r.value().reset();
  auto again = SessionReader::open(w.path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.value()->indexRebuilt());
  EXPECT_FALSE(again.value()->damage().ok());
  removeSession(w.path);
}

TEST(Hostile, DeletedIndexRowsAreDetectedAndRebuilt) {
  Written w = write("rows.aas");
  for (const char* where : {"offset = (SELECT min(offset) FROM frames)",
                            "offset = (SELECT max(offset) FROM frames)",
                            "rowid % 2 = 0"}) {
    {
      auto ok = SessionReader::open(w.path);
      ASSERT_TRUE(ok.ok());
      ASSERT_EQ(ok.value()->eventCount(), 400u);
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((w.path + "-index").c_str(), &db), SQLITE_OK);
    std::string sql = std::string("DELETE FROM frames WHERE ") + where;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), 0, 0, 0), SQLITE_OK);
    ASSERT_GT(sqlite3_changes(db), 0);
    sqlite3_close(db);
    auto r = SessionReader::open(w.path);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value()->indexRebuilt()) << where;
    EXPECT_EQ(r.value()->eventCount(), 400u) << where;
    EXPECT_EQ(countEvents(*r.value()), 400u) << where;
    EXPECT_TRUE(r.value()->damage().ok()) << "the log itself is whole: " << where;
  }
  removeSession(w.path);
}

TEST(Hostile, ImpossibleSequenceNumberDoesNotHideLaterFrames) {
  Written w = write("seq.aas");
  const FrameInfo& victim = w.frames[4];
  std::string b = w.bytes;
  auto* p = reinterpret_cast<uint8_t*>(b.data()) + victim.offset;
  auto h = format::decodeFrameHeader(p);
  h->firstSeq = 1ull << 60;
  format::encodeFrameHeader(*h, p);
  fixFrameCrc(b, victim.offset);
  std::string bad = w.path + ".bad";
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << b;
  auto r = SessionReader::open(bad, {.useIndex = false});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.value()->damage().ok());
  EXPECT_NE(r.value()->damage().message().find("offset " + std::to_string(victim.offset)),
            std::string::npos)
      << r.value()->damage().message();
  // The payload's events still carry their real seq, so the frame's events are not
  // trusted either; every other frame is read.
  EXPECT_EQ(r.value()->eventCount(), 400u - victim.count);
  EXPECT_TRUE(r.value()->footer().has_value());
  removeSession(bad);
  removeSession(w.path);
}

TEST(Hostile, FooterInMidFileDoesNotHideWhatFollows) {
  Written w = write("mid.aas");
  // A footer frame copied into the middle: between frames 3 and 4.
  std::string footer = w.bytes.substr(w.footerOffset);
  uint64_t at = w.frames[4].offset;
  std::string b = w.bytes.substr(0, at) + footer + w.bytes.substr(at);
  std::string bad = w.path + ".bad";
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << b;
  auto r = SessionReader::open(bad, {.useIndex = false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->eventCount(), 400u);
  EXPECT_EQ(countEvents(*r.value()), 400u);
  EXPECT_FALSE(r.value()->damage().ok());
  EXPECT_TRUE(r.value()->footer().has_value()) << "the real footer at the end is found";
  removeSession(bad);
  removeSession(w.path);
}

TEST(Hostile, DamagedFileHeaderIsRecoveredFromItsCopy) {
  Written w = write("header.aas");
  auto good = SessionReader::open(w.path, {.useIndex = false});
  ASSERT_TRUE(good.ok());
  const SessionHeaderInfo& want = good.value()->header();
  // A flipped bit in the payload (checksum fails), in the length and in the version.
  for (size_t at : {size_t(40), size_t(13), size_t(8)}) {
    std::string b = w.bytes;
    b[at] ^= 0x04;
    std::string bad = w.path + ".bad";
    std::ofstream(bad, std::ios::binary | std::ios::trunc) << b;
    auto r = SessionReader::open(bad, {.useIndex = false});
    ASSERT_TRUE(r.ok()) << at << ": " << r.status().message();
    EXPECT_FALSE(r.value()->damage().ok()) << at;
    EXPECT_EQ(r.value()->header().sessionId, want.sessionId) << at;
    EXPECT_EQ(r.value()->header().startMonoNs, want.startMonoNs) << at;
    EXPECT_EQ(r.value()->header().clockOffsetNs, want.clockOffsetNs) << at;
    EXPECT_EQ(r.value()->header().command, want.command) << at;
    EXPECT_EQ(r.value()->eventCount(), 400u) << at;
    EXPECT_EQ(countEvents(*r.value()), 400u) << at;
    removeSession(bad);
  }
  removeSession(w.path);
}

}  // namespace
}  // namespace aa
