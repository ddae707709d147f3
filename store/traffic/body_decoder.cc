#include "store/traffic/body_decoder.h"

#include <algorithm>
#include <cctype>

#ifdef AA_HAVE_BROTLI
#include <brotli/decode.h>
#endif

namespace aa::traffic {

namespace {

std::string lowerTrim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

BodyDecoder::BodyDecoder(HttpMessage& msg, std::string_view contentEncoding) : msg_(msg) {
  std::string enc = lowerTrim(contentEncoding);
  msg_.contentEncoding = enc == "identity" ? "" : enc;
  if (msg_.contentEncoding.empty()) {
    mode_ = Mode::kIdentity;
  } else if (enc == "gzip" || enc == "x-gzip" || enc == "deflate") {
    mode_ = Mode::kZlib;
    gzip_ = enc != "deflate";
    msg_.decoded = true;
  } else if (enc == "zstd") {
    mode_ = Mode::kZstd;
    msg_.decoded = true;
#ifdef AA_HAVE_BROTLI
  } else if (enc == "br") {
    mode_ = Mode::kBrotli;
    msg_.decoded = true;
#endif
  } else {
    // Unknown and stacked codings ("gzip, br"): kept as transferred, and said so.
    mode_ = Mode::kOpaque;
    note("content-encoding '" + enc + "' not decoded" +
         (enc == "br" ? ": built without libbrotlidec" : ": unknown coding"));
  }
}

BodyDecoder::~BodyDecoder() {
  if (started_ && mode_ == Mode::kZlib) inflateEnd(&z_);
#ifdef AA_HAVE_BROTLI
  if (brotli_) BrotliDecoderDestroyInstance(static_cast<BrotliDecoderState*>(brotli_));
#endif
  if (zstd_) ZSTD_freeDStream(zstd_);
}

bool brotliSupported() {
#ifdef AA_HAVE_BROTLI
  return true;
#else
  return false;
#endif
}

bool BodyDecoder::append(const char* data, size_t n) {
  if (msg_.body.size() + n > kMaxDecodedBody) {
    failed_ = true;
    note("decoded body exceeds " + std::to_string(kMaxDecodedBody >> 20) + " MiB, cut");
    return false;
  }
  msg_.body.append(data, n);
  return true;
}

void BodyDecoder::note(const std::string& what) {
  if (msg_.problem.find(what) != std::string::npos) return;
  if (!msg_.problem.empty()) msg_.problem += "; ";
  msg_.problem += what;
}

void BodyDecoder::decodePiece(std::string_view bytes) {
  msg_.wireBodyBytes += bytes.size();
  if (mode_ == Mode::kIdentity || mode_ == Mode::kOpaque) {
    msg_.body.append(bytes);
    return;
  }
  if (failed_ || bytes.empty()) return;
  if (ended_ && mode_ != Mode::kZstd) {
    note(msg_.contentEncoding + " data continues after its end");
    failed_ = true;
    return;
  }
  switch (mode_) {
    case Mode::kZlib: decodeZlib(bytes); break;
    case Mode::kBrotli: decodeBrotli(bytes); break;
    case Mode::kZstd: decodeZstd(bytes); break;
    default: break;
  }
}

void BodyDecoder::decodeBrotli(std::string_view bytes) {
#ifdef AA_HAVE_BROTLI
  auto* st = static_cast<BrotliDecoderState*>(brotli_);
  if (!st) {
    st = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    if (!st) {
      failed_ = true;
      note("brotli init failed");
      return;
    }
    brotli_ = st;
    started_ = true;
  }
  size_t availIn = bytes.size();
  auto* nextIn = reinterpret_cast<const uint8_t*>(bytes.data());
  char buf[16384];
  while (true) {
    size_t availOut = sizeof buf;
    auto* nextOut = reinterpret_cast<uint8_t*>(buf);
    BrotliDecoderResult rc = BrotliDecoderDecompressStream(st, &availIn, &nextIn, &availOut, &nextOut, nullptr);
    if (!append(buf, sizeof buf - availOut)) return;
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
      ended_ = true;
      if (availIn > 0) {
        failed_ = true;
        note("br data continues after its end");
      }
      return;
    }
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) return;
    if (rc == BROTLI_DECODER_RESULT_ERROR) {
      failed_ = true;
      note(std::string("br data damaged: ") + BrotliDecoderErrorString(BrotliDecoderGetErrorCode(st)));
      return;
    }
    // NEEDS_MORE_OUTPUT: loop with a fresh buffer.
  }
#else
  (void)bytes;
#endif
}

void BodyDecoder::decodeZstd(std::string_view bytes) {
  if (!zstd_) {
    zstd_ = ZSTD_createDStream();
    if (!zstd_ || ZSTD_isError(ZSTD_initDStream(zstd_))) {
      failed_ = true;
      note("zstd init failed");
      return;
    }
    // RFC 9659: HTTP zstd windows are at most 8 MiB; refuse more rather than allocate it.
    ZSTD_DCtx_setParameter(zstd_, ZSTD_d_windowLogMax, 23);
    started_ = true;
  }
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  char buf[16384];
  while (true) {
    ZSTD_outBuffer out{buf, sizeof buf, 0};
    size_t rc = ZSTD_decompressStream(zstd_, &out, &in);
    if (ZSTD_isError(rc)) {
      failed_ = true;
      note(std::string("zstd data damaged: ") + ZSTD_getErrorName(rc));
      return;
    }
    if (!append(buf, out.pos)) return;
    // rc == 0: a frame ended and is flushed; several frames may follow one another.
    zstdInFrame_ = rc != 0;
    ended_ = rc == 0;
    if (in.pos == in.size && out.pos < out.size) return;
  }
}

void BodyDecoder::decodeZlib(std::string_view bytes) {
  if (!started_) {
    int windowBits = 15 + 16;
    if (!gzip_) {
      // "deflate" is meant to be zlib-wrapped, but servers also send raw deflate.
      unsigned char b0 = static_cast<unsigned char>(bytes[0]);
      bool zlibHeader = (b0 & 0x0F) == 8 &&
                        (bytes.size() < 2 ||
                         ((b0 << 8) | static_cast<unsigned char>(bytes[1])) % 31 == 0);
      windowBits = zlibHeader ? 15 : -15;
    }
    if (inflateInit2(&z_, windowBits) != Z_OK) {
      failed_ = true;
      note("zlib init failed");
      return;
    }
    started_ = true;
  }
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z_.avail_in = static_cast<uInt>(bytes.size());
  char buf[16384];
  while (z_.avail_in > 0 || z_.avail_out == 0) {
    z_.next_out = reinterpret_cast<Bytef*>(buf);
    z_.avail_out = sizeof buf;
    int rc = inflate(&z_, Z_NO_FLUSH);
    size_t got = sizeof buf - z_.avail_out;
    if (!append(buf, got)) return;
    if (rc == Z_STREAM_END) {
      ended_ = true;
      if (z_.avail_in > 0) {
        failed_ = true;
        note(msg_.contentEncoding + " data continues after its end");
      }
      return;
    }
    if (rc == Z_BUF_ERROR) return;   // needs more input
    if (rc != Z_OK) {
      failed_ = true;
      note(std::string(msg_.contentEncoding) + " data damaged: " + (z_.msg ? z_.msg : "error"));
      return;
    }
    if (z_.avail_in == 0 && z_.avail_out != 0) return;
  }
}

void BodyDecoder::feed(const ByteStream& stream, uint64_t offset, std::string_view bytes) {
  while (!bytes.empty()) {
    const TimeMark* m = stream.markAt(offset);
    // Split where the next record's bytes begin, so each piece has one capture time.
    auto next = std::upper_bound(stream.marks.begin(), stream.marks.end(), offset,
                                 [](uint64_t o, const TimeMark& tm) { return o < tm.offset; });
    uint64_t n = bytes.size();
    if (next != stream.marks.end()) n = std::min<uint64_t>(n, next->offset - offset);
    decodePiece(bytes.substr(0, n));
    msg_.bodyMarks.push_back({msg_.body.size(), m ? m->tNs : 0});
    bytes.remove_prefix(n);
    offset += n;
  }
}

void BodyDecoder::feedAt(uint64_t tNs, std::string_view bytes) {
  decodePiece(bytes);
  msg_.bodyMarks.push_back({msg_.body.size(), tNs});
}

void BodyDecoder::finish(bool whole) {
  bool decoding = mode_ == Mode::kZlib || mode_ == Mode::kBrotli || mode_ == Mode::kZstd;
  if (decoding && whole && !failed_ && msg_.wireBodyBytes > 0 && (!ended_ || zstdInFrame_)) {
    note(msg_.contentEncoding + " stream ends early");
  }
  // Identical consecutive marks add nothing.
  auto& v = msg_.bodyMarks;
  v.erase(std::unique(v.begin(), v.end(),
                      [](const BodyMark& a, const BodyMark& b) {
                        return a.bodySize == b.bodySize && a.tNs == b.tNs;
                      }),
          v.end());
}

StatusOr<std::string> decodeContent(std::string_view coding, std::string_view in) {
  HttpMessage m;
  {
    BodyDecoder d(m, coding);
    if (!m.problem.empty()) return Status::error(m.problem);
    d.feedAt(0, in);
    d.finish(true);
  }
  if (!m.problem.empty()) return Status::error(m.problem);
  return std::move(m.body);
}

}  // namespace aa::traffic
