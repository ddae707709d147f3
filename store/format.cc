#include "store/format.h"

#include <zlib.h>

namespace aa::format {
namespace {

template <typename T>
void put(uint8_t* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<uint8_t>(uint64_t(v) >> (8 * i));
}
template <typename T>
T get(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= uint64_t(p[i]) << (8 * i);
  return static_cast<T>(v);
}

}  // namespace

uint32_t crc32(const uint8_t* data, size_t len) {
  uLong c = ::crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large buffers in pieces.
  while (len > 0) {
    uInt n = len > (1u << 30) ? (1u << 30) : static_cast<uInt>(len);
    c = ::crc32(c, data, n);
    data += n;
    len -= n;
  }
  return static_cast<uint32_t>(c);
}

void encodeFileHeader(const FileHeader& h, uint8_t out[kFileHeaderSize]) {
  std::memcpy(out, kFileMagic, sizeof kFileMagic);
  put<uint32_t>(out + 8, h.version);
  put<uint32_t>(out + 12, h.payloadLen);
  put<uint32_t>(out + 16, h.payloadCrc);
  put<uint32_t>(out + 20, 0);   // reserved
}

FileHeader decodeFileHeader(const uint8_t in[kFileHeaderSize]) {
  FileHeader h;
  h.magicOk = std::memcmp(in, kFileMagic, sizeof kFileMagic) == 0;
  h.version = get<uint32_t>(in + 8);
  h.payloadLen = get<uint32_t>(in + 12);
  h.payloadCrc = get<uint32_t>(in + 16);
  return h;
}

void encodeFrameHeader(const FrameHeader& h, uint8_t out[kFrameHeaderSize]) {
  put<uint32_t>(out + 0, kFrameMagic);
  put<uint16_t>(out + 4, h.type);
  put<uint16_t>(out + 6, h.flags);
  put<uint32_t>(out + 8, h.storedLen);
  put<uint32_t>(out + 12, h.rawLen);
  put<uint64_t>(out + 16, h.firstSeq);
  put<uint32_t>(out + 24, h.count);
  put<uint32_t>(out + 28, h.crc);
  put<uint64_t>(out + 32, h.tMin);
  put<uint64_t>(out + 40, h.tMax);
}

std::optional<FrameHeader> decodeFrameHeader(const uint8_t in[kFrameHeaderSize]) {
  if (get<uint32_t>(in) != kFrameMagic) return std::nullopt;
  FrameHeader h;
  h.type = get<uint16_t>(in + 4);
  h.flags = get<uint16_t>(in + 6);
  h.storedLen = get<uint32_t>(in + 8);
  h.rawLen = get<uint32_t>(in + 12);
  h.firstSeq = get<uint64_t>(in + 16);
  h.count = get<uint32_t>(in + 24);
  h.crc = get<uint32_t>(in + 28);
  h.tMin = get<uint64_t>(in + 32);
  h.tMax = get<uint64_t>(in + 40);
  return h;
}

uint32_t frameCrc(const uint8_t header[kFrameHeaderSize], const uint8_t* payload, size_t len) {
  uLong c = ::crc32(0L, Z_NULL, 0);
  c = ::crc32(c, header, 28);
  c = ::crc32(c, header + 32, 16);
  while (len > 0) {
    uInt n = len > (1u << 30) ? (1u << 30) : static_cast<uInt>(len);
    c = ::crc32(c, payload, n);
    payload += n;
    len -= n;
  }
  return static_cast<uint32_t>(c);
}

Status checkFrame(const uint8_t* data, uint64_t offset, uint64_t fileSize, FrameHeader* header) {
  uint64_t avail = fileSize - offset;
  if (avail < kFrameHeaderSize) return Status::error("truncated frame header");
  auto h = decodeFrameHeader(data);
  if (!h) return Status::error("bad frame magic");
  if (h->type != kFrameBatch && h->type != kFrameFooter)
    return Status::error("unknown frame type");
  if (h->storedLen > kMaxPayload || h->rawLen > kMaxPayload || h->rawLen % 8 != 0)
    return Status::error("implausible frame length");
  if (!(h->flags & kFlagZstd) && h->storedLen != h->rawLen)
    return Status::error("inconsistent frame length");
  if (avail < h->frameLength()) return Status::error("truncated frame");
  if (frameCrc(data, data + kFrameHeaderSize, h->storedLen) != h->crc)
    return Status::error("frame checksum mismatch");
  if (header) *header = *h;
  return Status();
}

}  // namespace aa::format
