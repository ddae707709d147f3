#include "store/traffic/body_decoder.h"

#include <algorithm>
#include <cctype>

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
  } else {
    // br, zstd, stacked codings: kept as transferred, and said so.
    mode_ = Mode::kOpaque;
    note("content-encoding '" + enc + "' not decoded");
  }
}

BodyDecoder::~BodyDecoder() {
  if (started_) inflateEnd(&z_);
}

void BodyDecoder::note(const std::string& what) {
  if (msg_.problem.find(what) != std::string::npos) return;
  if (!msg_.problem.empty()) msg_.problem += "; ";
  msg_.problem += what;
}

void BodyDecoder::decodePiece(std::string_view bytes) {
  msg_.wireBodyBytes += bytes.size();
  if (mode_ != Mode::kZlib) {
    msg_.body.append(bytes);
    return;
  }
  if (failed_ || ended_ || bytes.empty()) return;
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
    if (msg_.body.size() + got > kMaxDecodedBody) {
      failed_ = true;
      note("decoded body exceeds " + std::to_string(kMaxDecodedBody >> 20) + " MiB, cut");
      return;
    }
    msg_.body.append(buf, got);
    if (rc == Z_STREAM_END) {
      ended_ = true;
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
  if (mode_ == Mode::kZlib && whole && !failed_ && msg_.wireBodyBytes > 0 && !ended_) {
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

bool decodeContent(std::string_view coding, std::string_view in, std::string& out,
                   std::string* error) {
  HttpMessage m;
  {
    BodyDecoder d(m, coding);
    if (!m.problem.empty()) {
      if (error) *error = m.problem;
      out = std::string(in);
      return false;
    }
    d.feedAt(0, in);
    d.finish(true);
  }
  out = std::move(m.body);
  if (!m.problem.empty()) {
    if (error) *error = m.problem;
    return false;
  }
  return true;
}

}  // namespace aa::traffic
