// Bad input: truncation at every byte, flipped bytes, empty and foreign files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "random_events.h"
#include "store/format.h"
#include "store/meta_codec.h"
#include "store/session_reader.h"

namespace aa {
namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void spit(const std::string& p, const std::string& data) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
}

struct Session {
  std::string path, bytes;
  std::vector<FrameInfo> frames;
  uint64_t dataStart = 0;
};

Session smallSession(const std::string& name) {
  Session s;
  s.path = test::tempPath(name);
  WriterOptions opt;
  opt.batchEvents = 6;
  test::writeRandomSession(s.path, 40, 11, opt);
  s.bytes = slurp(s.path);
  auto r = SessionReader::open(s.path, {.useIndex = false});
  if (!r.ok()) throw std::runtime_error(r.status().message());
  s.frames = r.value()->frames();
  s.dataStart = s.frames.front().offset;
  unlink(s.path.c_str());
  return s;
}

TEST(Damage, TruncationAtEveryByteKeepsExactlyTheWholeFrames) {
  Session s = smallSession("trunc.aas");
  ASSERT_EQ(s.frames.size(), 7u);
  std::string cut = test::tempPath("cut.aas");
  for (size_t len = 0; len < s.bytes.size(); ++len) {
    spit(cut, s.bytes.substr(0, len));
    auto r = SessionReader::open(cut, {.useIndex = false});
    if (len < s.dataStart) {
      ASSERT_FALSE(r.ok()) << "cut at " << len;
      EXPECT_NE(r.status().message().find(cut), std::string::npos) << r.status().message();
      continue;
    }
    ASSERT_TRUE(r.ok()) << "cut at " << len << ": " << r.status().message();
    uint64_t whole = 0;
    size_t wholeFrames = 0;
    for (const auto& f : s.frames)
      if (f.offset + f.length <= len) whole += f.count, wholeFrames++;
    ASSERT_EQ(r.value()->eventCount(), whole) << "cut at " << len;
    uint64_t n = 0;
    ASSERT_TRUE(r.value()->forEach({}, [&](auto e) { EXPECT_EQ(e.getSeq(), n++); return true; }).ok());
    EXPECT_EQ(n, whole);
    EXPECT_FALSE(r.value()->footer().has_value());
    bool atBoundary = len == s.dataStart ||
                      (wholeFrames > 0 && s.frames[wholeFrames - 1].offset +
                                                  s.frames[wholeFrames - 1].length == len);
    EXPECT_EQ(r.value()->damage().ok(), atBoundary) << "cut at " << len;
  }
  unlink(cut.c_str());
}

TEST(Damage, FlippedByteIsReportedAndOtherFramesSurvive) {
  Session s = smallSession("flip.aas");
  std::string bad = test::tempPath("flip-bad.aas");
  const FrameInfo& victim = s.frames[3];
  for (uint64_t at : {victim.offset + 2, victim.offset + 30, victim.offset + 60}) {
    std::string b = s.bytes;
    b[at] ^= 0x40;
    spit(bad, b);
    auto r = SessionReader::open(bad, {.useIndex = false});
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_FALSE(r.value()->damage().ok());
    EXPECT_NE(r.value()->damage().message().find("offset " + std::to_string(victim.offset)),
              std::string::npos)
        << r.value()->damage().message();
    EXPECT_EQ(r.value()->eventCount(), 40u - victim.count) << "frames after the damage are kept";
    EXPECT_TRUE(r.value()->footer().has_value());
  }
  unlink(bad.c_str());
}

TEST(Damage, EmptyForeignAndNewerFilesGetOneLineErrors) {
  std::string p = test::tempPath("bad.aas");
  auto expectError = [&](const std::string& content, const std::string& needle) {
    spit(p, content);
    auto r = SessionReader::open(p);
    ASSERT_FALSE(r.ok());
    const std::string& m = r.status().message();
    EXPECT_NE(m.find(p), std::string::npos) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  };
  expectError("", "empty file");
  expectError("hello, this is not a session file at all", "not an aa-record session");
  Session s = smallSession("newer.aas");
  // A file of a newer format says so in its checksummed header payload too.
  SessionHeaderInfo info;
  {
    spit(p, s.bytes);
    auto ok = SessionReader::open(p, {.useIndex = false});
    ASSERT_TRUE(ok.ok());
    info = ok.value()->header();
  }
  info.formatVersion = 99;
  auto payload = encodeHeader(info);
  auto pbytes = payload.asBytes();
  std::string newer(format::kFileMagic, 8);
  uint32_t fields[4] = {99, uint32_t(pbytes.size()), format::crc32(pbytes.begin(), pbytes.size()), 0};
  newer.append(reinterpret_cast<const char*>(fields), sizeof fields);
  newer.append(reinterpret_cast<const char*>(pbytes.begin()), pbytes.size());
  newer += s.bytes.substr(s.dataStart);
  expectError(newer, "newer than this reader");
  // Only the (unchecksummed) version field says 99: damage, read with the payload's.
  std::string flipped = s.bytes;
  flipped[8] = 99;
  spit(p, flipped);
  auto field = SessionReader::open(p, {.useIndex = false});
  ASSERT_TRUE(field.ok()) << field.status().message();
  EXPECT_NE(field.value()->damage().message().find("format version field"), std::string::npos);
  field.value().reset();
  // A damaged header payload is no longer fatal: the first frame's copy is read
  // instead, and the damage reported (tests/store/session_hostile_test.cc).
  std::string hdr = s.bytes;
  hdr[30] ^= 1;
  spit(p, hdr);
  auto copied = SessionReader::open(p);
  ASSERT_TRUE(copied.ok()) << copied.status().message();
  EXPECT_NE(copied.value()->damage().message().find("header checksum"), std::string::npos);
  copied.value().reset();
  unlink((p + "-index").c_str());
  expectError(s.bytes.substr(0, 30), "truncated or damaged session header");
  auto missing = SessionReader::open(test::tempPath("does-not-exist.aas"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos);
  unlink(p.c_str());
  unlink((p + "-index").c_str());
}

}  // namespace
}  // namespace aa
