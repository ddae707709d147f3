// The byte layout of a session file (NAME.aas). Only store/ includes this header.
//
// All integers little-endian. Offsets in bytes.
//
// File header, at offset 0:
//   0  char[8]  magic "AASESS\r\n" (the CR LF catches text-mode mangling)
//   8  u32      format version (kFormatVersion)
//  12  u32      header payload length L, a multiple of 8
//  16  u32      CRC-32 (zlib) of the payload
//  20  u32      reserved, 0
//  24  L bytes  payload: one Cap'n Proto message (flat array), root SessionHeader
// Frames follow at 24 + L, each starting at an offset that is a multiple of 8:
//   0  u32      magic 0x52464141 ("AAFR")
//   4  u16      type: 1 = batch of events (root Batch), 2 = footer (root SessionFooter)
//   6  u16      flags: bit 0 = payload is zstd-compressed
//   8  u32      stored payload length S (bytes on disk)
//  12  u32      raw payload length R (after decompression; multiple of 8)
//  16  u64      first event sequence number
//  24  u32      event count
//  28  u32      CRC-32 (zlib) of bytes 0..27 and 32..47 of this header, then the payload
//  32  u64      smallest event tNs
//  40  u64      largest event tNs
//  48  S bytes  payload (a Cap'n Proto flat-array message), then zero padding to a
//               multiple of 8
// A frame is whole when its header and payload are present and the CRC matches.
// A clean stop ends the file with a footer frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "store/status.h"

namespace aa::format {

constexpr char kFileMagic[8] = {'A', 'A', 'S', 'E', 'S', 'S', '\r', '\n'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kFileHeaderSize = 24;
constexpr uint32_t kFrameMagic = 0x52464141;
constexpr size_t kFrameHeaderSize = 48;
constexpr uint16_t kFrameBatch = 1;
constexpr uint16_t kFrameFooter = 2;
constexpr uint16_t kFlagZstd = 1;
// Bounds a reader accepts; anything larger is damage, not a reason to allocate.
constexpr uint32_t kMaxPayload = 1u << 30;
constexpr uint32_t kMaxHeaderPayload = 16u << 20;

constexpr uint64_t align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

struct FrameHeader {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t storedLen = 0;
  uint32_t rawLen = 0;
  uint64_t firstSeq = 0;
  uint32_t count = 0;
  uint32_t crc = 0;
  uint64_t tMin = 0, tMax = 0;

  uint64_t frameLength() const { return kFrameHeaderSize + align8(storedLen); }
};

// The 24 bytes at offset 0: magic, then four little-endian 32-bit fields.
struct FileHeader {
  bool magicOk = false;     // decode only: the 8 magic bytes matched
  uint32_t version = kFormatVersion;
  uint32_t payloadLen = 0;  // header payload length L (a multiple of 8)
  uint32_t payloadCrc = 0;  // CRC-32 of the payload
};
// Writes magic and fields (little-endian on every host) into 24 bytes.
void encodeFileHeader(const FileHeader& h, uint8_t out[kFileHeaderSize]);
FileHeader decodeFileHeader(const uint8_t in[kFileHeaderSize]);

// Serializes h (crc included as given) into 48 bytes.
void encodeFrameHeader(const FrameHeader& h, uint8_t out[kFrameHeaderSize]);
// Parses 48 bytes; nullopt when the magic is wrong.
std::optional<FrameHeader> decodeFrameHeader(const uint8_t in[kFrameHeaderSize]);
// The CRC a frame header with these fields and this payload must carry.
uint32_t frameCrc(const uint8_t header[kFrameHeaderSize], const uint8_t* payload, size_t len);
uint32_t crc32(const uint8_t* data, size_t len);

// Ok when the frame at `offset` in a file of `fileSize` bytes is whole (then `header`,
// when given, is set), else why not ("truncated frame", "frame checksum mismatch", ...).
// `data` points at the frame's first byte (fileSize - offset bytes valid).
Status checkFrame(const uint8_t* data, uint64_t offset, uint64_t fileSize, FrameHeader* header);

}  // namespace aa::format
