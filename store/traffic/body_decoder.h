// Incremental content decoding of a message body as its bytes arrive, keeping a
// BodyMark after every captured piece so streamed bodies can be timed. Internal to
// the traffic library (used by the HTTP/1 and HTTP/2 parsers).
//
// Codings: gzip / x-gzip / deflate (zlib), br (libbrotlidec, when built with it), zstd
// (libzstd). Anything else, stacked codings included, is kept as transferred and noted.
#pragma once

#include <zlib.h>
#include <zstd.h>

#include <string>
#include <string_view>

#include "store/traffic/http.h"

namespace aa::traffic {

class BodyDecoder {
 public:
  // Sets msg.contentEncoding/decoded from the coding; bytes fed end up in msg.body.
  BodyDecoder(HttpMessage& msg, std::string_view contentEncoding);
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  // Body bytes as transferred, captured at stream offset `offset` of `stream`; split at
  // record boundaries so each piece gets its own capture time.
  void feed(const ByteStream& stream, uint64_t offset, std::string_view bytes);
  // Feeds bytes captured at a known time (HTTP/2 DATA frames).
  void feedAt(uint64_t tNs, std::string_view bytes);
  // Ends the body. `whole`: every byte of the body was fed. Notes a damaged or short
  // compressed stream in msg.problem.
  void finish(bool whole);

 private:
  void decodePiece(std::string_view bytes);
  void note(const std::string& what);

  HttpMessage& msg_;
  void decodeZlib(std::string_view bytes);
  void decodeBrotli(std::string_view bytes);
  void decodeZstd(std::string_view bytes);
  bool append(const char* data, size_t n);   // false (and failed_) past kMaxDecodedBody

  enum class Mode { kIdentity, kZlib, kBrotli, kZstd, kOpaque } mode_ = Mode::kIdentity;
  bool gzip_ = false;
  bool started_ = false;
  bool ended_ = false;
  bool failed_ = false;
  z_stream z_{};
  void* brotli_ = nullptr;          // BrotliDecoderState*
  ZSTD_DStream* zstd_ = nullptr;
  bool zstdInFrame_ = false;        // inside a zstd frame (not at a frame boundary)
};

bool brotliSupported();   // "br" bodies decoded (built with libbrotlidec)

}  // namespace aa::traffic
