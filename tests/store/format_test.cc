#include "store/format.h"

#include <gtest/gtest.h>

#include <vector>

#include "store/kind.h"

namespace aa {
namespace {

TEST(Format, FrameHeaderRoundTrips) {
  format::FrameHeader h;
  h.type = format::kFrameBatch;
  h.flags = format::kFlagZstd;
  h.storedLen = 123;
  h.rawLen = 4096;
  h.firstSeq = 0x1122334455667788ull;
  h.count = 77;
  h.crc = 0xdeadbeef;
  h.tMin = 5;
  h.tMax = ~0ull;
  uint8_t buf[format::kFrameHeaderSize];
  format::encodeFrameHeader(h, buf);
  auto d = format::decodeFrameHeader(buf);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->storedLen, 123u);
  EXPECT_EQ(d->firstSeq, h.firstSeq);
  EXPECT_EQ(d->tMax, h.tMax);
  EXPECT_EQ(d->crc, h.crc);
  EXPECT_EQ(d->frameLength(), format::kFrameHeaderSize + 128);
  buf[0] ^= 1;
  EXPECT_FALSE(format::decodeFrameHeader(buf));
}

TEST(Format, CheckFrameFindsEachProblem) {
  std::vector<uint8_t> frame(format::kFrameHeaderSize + 16, 0);
  format::FrameHeader h;
  h.type = format::kFrameBatch;
  h.storedLen = h.rawLen = 16;
  format::encodeFrameHeader(h, frame.data());
  h.crc = format::frameCrc(frame.data(), frame.data() + format::kFrameHeaderSize, 16);
  format::encodeFrameHeader(h, frame.data());
  EXPECT_TRUE(format::checkFrame(frame.data(), 0, frame.size(), nullptr).ok());
  EXPECT_EQ(format::checkFrame(frame.data(), 0, 40, nullptr).message(), "truncated frame header");
  EXPECT_EQ(format::checkFrame(frame.data(), 0, frame.size() - 1, nullptr).message(), "truncated frame");
  frame[format::kFrameHeaderSize + 3] ^= 0x10;
  EXPECT_EQ(format::checkFrame(frame.data(), 0, frame.size(), nullptr).message(), "frame checksum mismatch");
}

TEST(Kind, NamesRoundTrip) {
  for (int k = 0; k < kKindCount; ++k) {
    auto name = kindName(Kind(k));
    ASSERT_NE(name, "unknown");
    EXPECT_EQ(parseKind(name), Kind(k));
  }
  EXPECT_EQ(parseKind("file.open"), Kind::kFileOpen);
  EXPECT_EQ(parseKind("tls.read"), Kind::kTlsRead);
  EXPECT_FALSE(parseKind("nope"));
}

}  // namespace
}  // namespace aa

namespace aa {
namespace {

// The file header is little-endian whatever the host (the byte table in
// docs/ARCHITECTURE.md), and decodes what it encodes.
TEST(Format, FileHeaderIsLittleEndian) {
  format::FileHeader h;
  h.version = 1;
  h.payloadLen = 0x01020308;
  h.payloadCrc = 0xA1B2C3D4;
  uint8_t b[format::kFileHeaderSize];
  format::encodeFileHeader(h, b);
  EXPECT_EQ(std::memcmp(b, "AASESS\r\n", 8), 0);
  const uint8_t want[16] = {1, 0, 0, 0, 0x08, 0x03, 0x02, 0x01, 0xD4, 0xC3, 0xB2, 0xA1, 0, 0, 0, 0};
  EXPECT_EQ(std::memcmp(b + 8, want, 16), 0);
  const format::FileHeader d = format::decodeFileHeader(b);
  EXPECT_TRUE(d.magicOk);
  EXPECT_EQ(d.version, 1u);
  EXPECT_EQ(d.payloadLen, 0x01020308u);
  EXPECT_EQ(d.payloadCrc, 0xA1B2C3D4u);
  b[0] = 'X';
  EXPECT_FALSE(format::decodeFileHeader(b).magicOk);
}

}  // namespace
}  // namespace aa
