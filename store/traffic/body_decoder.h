// Incremental content decoding of a message body as its bytes arrive, keeping a
// BodyMark after every captured piece so streamed bodies can be timed. Internal to
// the traffic library (used by the HTTP/1 and HTTP/2 parsers).
#pragma once

#include <zlib.h>

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
  enum class Mode { kIdentity, kZlib, kOpaque } mode_ = Mode::kIdentity;
  bool gzip_ = false;
  bool started_ = false;
  bool ended_ = false;
  bool failed_ = false;
  z_stream z_{};
};

}  // namespace aa::traffic
