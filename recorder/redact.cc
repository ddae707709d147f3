#include "recorder/redact.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace aa {
namespace {

constexpr std::string_view kHttpMarker = "HTTP/1.";

// RFC 9110 token characters: what a header name is made of.
bool isTokenChar(uint8_t c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

}  // namespace

bool isSecretHeader(std::string_view name) {
  std::string n;
  n.reserve(name.size());
  for (char c : name) n.push_back(static_cast<char>(lower(static_cast<uint8_t>(c))));
  static constexpr std::array<std::string_view, 6> kExact = {
      "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"};
  for (auto e : kExact)
    if (n == e) return true;
  static constexpr std::array<std::string_view, 8> kParts = {
      "token", "secret", "passw", "api-key", "apikey", "api_key", "credential", "session"};
  for (auto p : kParts)
    if (n.find(p) != std::string::npos) return true;
  return false;
}

void HttpRedactor::endLine() {
  if (mode_ == Mode::kHeaders) {
    if (!lineHasText_) mode_ = Mode::kBody;  // the empty line ending a header block
  } else if (lineHasHttp_) {
    mode_ = Mode::kHeaders;
  }
  prevSecret_ = secret_;
  line_ = Line::kStart;
  secret_ = false;
  lineHasText_ = false;
  lineHasHttp_ = false;
  httpMatch_ = 0;
  name_.clear();
}

void HttpRedactor::reset() {
  const bool wasHttp2 = http2_;
  *this = HttpRedactor();
  http2_ = h2Lost_ = wasHttp2;
}

size_t HttpRedactor::process(uint8_t* data, size_t size) {
  if (h2Lost_) {
    std::fill(data, data + size, kRedactByte);
    return size;
  }
  size_t masked = 0;
  size_t i = 0;
  for (; i < size && !http2_; ++i, ++seen_) {
    uint8_t c = data[i];
    // HTTP/2: a frame header first (length < 64 KiB: first octet 0), or the preface
    if (seen_ == 0 && c == 0) {
      http2_ = true;
      break;
    }
    if (seen_ < kH2Preface.size() && prefaceLive_) {
      prefaceLive_ = c == static_cast<uint8_t>(kH2Preface[seen_]);
      if (prefaceLive_ && seen_ + 1 == kH2Preface.size()) {
        http2_ = true;
        ++i;
        ++seen_;
        break;
      }
    }
    if (c == '\n') {
      endLine();
      continue;
    }
    if (c != '\r') lineHasText_ = true;
    // "HTTP/1." has no repeated prefix, so a restart on mismatch is exact.
    if (!lineHasHttp_) {
      if (c == static_cast<uint8_t>(kHttpMarker[httpMatch_])) {
        if (++httpMatch_ == kHttpMarker.size()) lineHasHttp_ = true;
      } else {
        httpMatch_ = (c == 'H') ? 1 : 0;
      }
    }
    if (mode_ == Mode::kBody) continue;

    switch (line_) {
      case Line::kStart:
        if ((c == ' ' || c == '\t') && prevSecret_) {
          // obs-fold: a continuation of a secret value
          secret_ = true;
          line_ = Line::kValue;
          data[i] = kRedactByte;
          ++masked;
          break;
        }
        line_ = Line::kName;
        [[fallthrough]];
      case Line::kName:
        if (c == ':' && !name_.empty()) {
          secret_ = isSecretHeader(name_);
          line_ = Line::kValueLead;
        } else if (isTokenChar(c) && name_.size() < kMaxName) {
          name_.push_back(static_cast<char>(lower(c)));
        } else {
          line_ = Line::kSkip;  // a request or status line, or not a header
        }
        break;
      case Line::kValueLead:
        if (c == ' ' || c == '\t') break;
        line_ = Line::kValue;
        [[fallthrough]];
      case Line::kValue:
        if (secret_ && c != '\r') {
          data[i] = kRedactByte;
          ++masked;
        }
        break;
      case Line::kSkip:
        break;
    }
  }
  if (http2_ && i < size) {
    if (!h2_) h2_ = std::make_unique<Http2Redactor>();
    masked += h2_->process(data + i, size - i);
    seen_ += size - i;
  }
  return masked;
}


// ---- HTTP/2 ----

namespace {

// HPACK static table names (RFC 7541 Appendix A), index 1..61.
constexpr std::array<std::string_view, 62> kStaticNames = {
    "", ":authority", ":method", ":method", ":path", ":path", ":scheme", ":scheme",
    ":status", ":status", ":status", ":status", ":status", ":status", ":status",
    "accept-charset", "accept-encoding", "accept-language", "accept-ranges", "accept",
    "access-control-allow-origin", "age", "allow", "authorization", "cache-control",
    "content-disposition", "content-encoding", "content-language", "content-length",
    "content-location", "content-range", "content-type", "cookie", "date", "etag", "expect",
    "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range",
    "if-unmodified-since", "last-modified", "link", "location", "max-forwards",
    "proxy-authenticate", "proxy-authorization", "range", "referer", "refresh",
    "retry-after", "server", "set-cookie", "strict-transport-security", "transfer-encoding",
    "user-agent", "vary", "via", "www-authenticate"};

// The HPACK Huffman code is canonical: codes of one length are consecutive, in symbol
// order, and each length starts right after the previous one. So the symbols of each
// length define it. Printable ASCII (and NUL) use lengths 5..15; every other octet
// has a code of 19 bits or more, which this decoder does not accept.
struct HuffLength {
  uint8_t bits;
  std::string_view symbols;
};
constexpr std::string_view kHuff13("\0$@[]~", 6);
constexpr std::array<HuffLength, 10> kHuffLengths = {{
    {5, "012aceiost"},
    {6, " %-./3456789=A_bdfghlmnpru"},
    {7, ":BCDEFGHIJKLMNOPQRSTUVWYjkqvwxyz"},
    {8, "&*,;XZ"},
    {10, "!\"()?"},
    {11, "'+|"},
    {12, "#>"},
    {13, kHuff13},
    {14, "^}"},
    {15, "<`{"},
}};

struct HuffCode {
  uint32_t first = 0;  // first code of this length
  uint8_t bits = 0;
  std::string_view symbols;
};

std::array<HuffCode, kHuffLengths.size()> huffCodes() {
  std::array<HuffCode, kHuffLengths.size()> out{};
  uint32_t code = 0;
  uint8_t bits = kHuffLengths[0].bits;
  for (size_t i = 0; i < kHuffLengths.size(); ++i) {
    code <<= (kHuffLengths[i].bits - bits);
    bits = kHuffLengths[i].bits;
    out[i] = {code, bits, kHuffLengths[i].symbols};
    code += static_cast<uint32_t>(kHuffLengths[i].symbols.size());
  }
  return out;
}

const std::array<HuffCode, kHuffLengths.size()>& codes() {
  static const auto kCodes = huffCodes();
  return kCodes;
}

// The code of one symbol of the given length (for refilling a masked value).
uint32_t huffCodeOf(uint8_t bits, char symbol) {
  for (const auto& c : codes())
    if (c.bits == bits) return c.first + static_cast<uint32_t>(c.symbols.find(symbol));
  return 0;
}

// Octets for `chars` symbols ('0' of 5 bits, '*' of 8, '<' of 15 where more bits are
// needed) that fill exactly `octets` octets of Huffman code with valid padding; empty
// when impossible.
std::string huffmanFill(uint64_t chars, size_t octets) {
  const uint64_t total = uint64_t(octets) * 8;
  if (chars * 5 > total) return {};
  uint64_t extra = total - chars * 5;   // bits to spend beyond all-'0'
  std::vector<uint8_t> lengths(chars, 5);
  for (auto& l : lengths) {             // '0' -> '*' (+3) while it fits
    if (extra < 3) break;
    l = 8;
    extra -= 3;
  }
  for (auto& l : lengths) {             // '*' -> '<' (+7) when still short
    if (extra < 8) break;
    l = 15;
    extra -= 7;
  }
  if (extra > 7) return {};
  std::string out;
  uint64_t acc = 0;
  int have = 0;
  auto put = [&](uint32_t code, int bits) {
    acc = (acc << bits) | code;
    have += bits;
    while (have >= 8) {
      out.push_back(static_cast<char>((acc >> (have - 8)) & 0xff));
      have -= 8;
    }
  };
  for (uint8_t l : lengths) put(huffCodeOf(l, l == 5 ? '0' : l == 8 ? '*' : '<'), l);
  if (have > 0) put((1u << (8 - have)) - 1, 8 - have);  // EOS prefix padding
  return out.size() == octets ? out : std::string();
}

}  // namespace

std::optional<std::string> hpackHuffmanDecode(std::string_view in) {
  std::string out;
  uint32_t code = 0;
  uint8_t bits = 0;
  for (unsigned char octet : in) {
    for (int k = 7; k >= 0; --k) {
      code = (code << 1) | ((octet >> k) & 1);
      if (++bits > 15) return std::nullopt;
      for (const auto& c : codes()) {
        if (c.bits == bits && code >= c.first && code - c.first < c.symbols.size()) {
          out.push_back(c.symbols[code - c.first]);
          code = 0;
          bits = 0;
          break;
        }
      }
    }
  }
  // padding: fewer than 8 bits, all ones
  if (bits >= 8 || code != (1u << bits) - 1) return std::nullopt;
  return out;
}

std::optional<std::string> Http2Redactor::nameAt(uint64_t index) const {
  if (index == 0) return std::nullopt;
  if (index < kStaticNames.size()) return std::string(kStaticNames[index]);
  const uint64_t dyn = index - kStaticNames.size();
  if (tableLost_ || dyn >= table_.size() || table_[dyn].name.empty()) return std::nullopt;
  return table_[dyn].name;
}

void Http2Redactor::evict() {
  while (tableSize_ > tableMax_ && !table_.empty()) {
    tableSize_ -= table_.back().size;
    table_.pop_back();
  }
}

void Http2Redactor::addEntry(const std::string& name, uint64_t valueLen) {
  const uint64_t size = name.size() + valueLen + 32;  // RFC 7541 4.1
  table_.push_front({name, size});
  tableSize_ += size;
  evict();
}

void Http2Redactor::fieldNamed(std::optional<std::string> name) {
  nameKnown_ = name.has_value();
  name_ = name.value_or("");
  // unknown names are treated as secret: better a masked header than a leaked key
  secret_ = !nameKnown_ || isSecretHeader(name_);
  rep_ = Rep::kValueLen;
}

void Http2Redactor::flushDeferred() {
  for (uint8_t* p : deferred_) *p = 0xf9;
  deferred_.clear();
}

void Http2Redactor::fieldDone() {
  uint64_t decodedLen = strLen_;
  if (huffman_) {
    auto text = hpackHuffmanDecode(valueRaw_);
    if (text) {
      decodedLen = text->size();
    } else if (incremental_) {
      tableLost_ = true;  // the entry's size is unknown: later dynamic names too
    }
  }
  if (deferring_) {
    std::string fill = valueRaw_.size() == deferred_.size() && !deferred_.empty()
                           ? huffmanFill(decodedLen, deferred_.size())
                           : std::string();
    if (fill.empty()) {
      flushDeferred();
    } else {
      for (size_t k = 0; k < deferred_.size(); ++k) *deferred_[k] = static_cast<uint8_t>(fill[k]);
      deferred_.clear();
    }
    deferring_ = false;
  }
  if (incremental_) addEntry(nameKnown_ ? name_ : std::string(), decodedLen);
  valueRaw_.clear();
  rep_ = Rep::kStart;
}

void Http2Redactor::startInt(uint8_t b, uint8_t mask, IntFor what) {
  intFor_ = what;
  int_ = b & mask;
  intShift_ = 0;
  if (int_ < mask) {
    intDone();
  } else {
    rep_ = Rep::kInt;
  }
}

void Http2Redactor::intDone() {
  switch (intFor_) {
    case IntFor::kIndexed:
      rep_ = Rep::kStart;
      break;
    case IntFor::kSizeUpdate:
      tableMax_ = int_;
      evict();
      rep_ = Rep::kStart;
      break;
    case IntFor::kLiteralName:
      if (int_ == 0) {
        rep_ = Rep::kNameLen;
      } else {
        fieldNamed(nameAt(int_));
      }
      break;
    case IntFor::kNameLen:
      strLen_ = strLeft_ = int_;
      nameRaw_.clear();
      nameTooLong_ = false;
      if (strLeft_ == 0) {
        fieldNamed(std::string());
      } else {
        rep_ = Rep::kName;
      }
      break;
    case IntFor::kValueLen:
      strLen_ = strLeft_ = int_;
      valueRaw_.clear();
      deferring_ = secret_ && huffman_ && incremental_;
      if (strLeft_ == 0) {
        fieldDone();
      } else {
        rep_ = Rep::kValue;
      }
      break;
  }
}

void Http2Redactor::blockByte(uint8_t& b, size_t& masked) {
  switch (rep_) {
    case Rep::kStart:
      huffman_ = false;
      if (b & 0x80) {
        startInt(b, 0x7f, IntFor::kIndexed);
      } else if ((b & 0xc0) == 0x40) {
        incremental_ = true;
        startInt(b, 0x3f, IntFor::kLiteralName);
      } else if ((b & 0xe0) == 0x20) {
        startInt(b, 0x1f, IntFor::kSizeUpdate);
      } else {
        incremental_ = false;
        startInt(b, 0x0f, IntFor::kLiteralName);
      }
      break;
    case Rep::kInt:
      if (intShift_ > 56) {
        tableLost_ = true;  // absurd integer: framing is lost; keep masking unknowns
        rep_ = Rep::kStart;
        break;
      }
      int_ += uint64_t(b & 0x7f) << intShift_;
      intShift_ += 7;
      if (!(b & 0x80)) intDone();
      break;
    case Rep::kNameLen:
    case Rep::kValueLen:
      huffman_ = (b & 0x80) != 0;
      startInt(b, 0x7f, rep_ == Rep::kNameLen ? IntFor::kNameLen : IntFor::kValueLen);
      break;
    case Rep::kName:
      if (nameRaw_.size() < 256) {
        nameRaw_.push_back(static_cast<char>(b));
      } else {
        nameTooLong_ = true;
      }
      if (--strLeft_ == 0) {
        std::optional<std::string> name;
        if (!nameTooLong_) name = huffman_ ? hpackHuffmanDecode(nameRaw_) : nameRaw_;
        if (name)
          for (auto& ch : *name) ch = static_cast<char>(lower(static_cast<uint8_t>(ch)));
        fieldNamed(std::move(name));
      }
      break;
    case Rep::kValue:
      if (huffman_ && valueRaw_.size() < 8192) valueRaw_.push_back(static_cast<char>(b));
      if (secret_) {
        ++masked;
        if (deferring_) {
          deferred_.push_back(&b);
        } else {
          b = huffman_ ? 0xf9 : kRedactByte;
        }
      }
      if (--strLeft_ == 0) fieldDone();
      break;
  }
}

void Http2Redactor::enterBlock() {
  if (pad_ > left_) pad_ = left_;  // malformed: the rest is padding
  st_ = left_ > pad_ ? St::kBlock : left_ > 0 ? St::kPadding : St::kFrameHeader;
}

void Http2Redactor::frameByte(uint8_t& b, size_t& masked) {
  constexpr uint8_t kHeaders = 0x1, kPushPromise = 0x5, kContinuation = 0x9;
  constexpr uint8_t kPadded = 0x8, kPriorityFlag = 0x20;
  switch (st_) {
    case St::kFrameHeader:
      hdr_[hdrHave_++] = b;
      if (hdrHave_ < 9) return;
      hdrHave_ = 0;
      left_ = (uint32_t(hdr_[0]) << 16) | (uint32_t(hdr_[1]) << 8) | hdr_[2];
      type_ = hdr_[3];
      flags_ = hdr_[4];
      pad_ = 0;
      if (type_ == kContinuation) {
        enterBlock();
      } else if (type_ == kHeaders || type_ == kPushPromise) {
        if (left_ == 0) {
          st_ = St::kFrameHeader;
        } else if (flags_ & kPadded) {
          st_ = St::kPadLength;
        } else if (type_ == kHeaders && (flags_ & kPriorityFlag)) {
          st_ = St::kPriority;
          fieldLeft_ = 5;
        } else if (type_ == kPushPromise) {
          st_ = St::kPromisedId;
          fieldLeft_ = 4;
        } else {
          enterBlock();
        }
      } else {
        st_ = left_ ? St::kPayloadSkip : St::kFrameHeader;
      }
      return;
    case St::kPayloadSkip:
      if (--left_ == 0) st_ = St::kFrameHeader;
      return;
    case St::kPadLength:
      pad_ = b;
      --left_;
      if (type_ == kHeaders && (flags_ & kPriorityFlag)) {
        st_ = St::kPriority;
        fieldLeft_ = 5;
      } else if (type_ == kPushPromise) {
        st_ = St::kPromisedId;
        fieldLeft_ = 4;
      } else {
        enterBlock();
      }
      if (left_ == 0) st_ = St::kFrameHeader;
      return;
    case St::kPriority:
    case St::kPromisedId:
      --left_;
      if (--fieldLeft_ == 0 || left_ == 0) enterBlock();
      return;
    case St::kBlock:
      blockByte(b, masked);
      --left_;
      if (left_ <= pad_) st_ = left_ ? St::kPadding : St::kFrameHeader;
      return;
    case St::kPadding:
      if (--left_ == 0) st_ = St::kFrameHeader;
      return;
  }
}

size_t Http2Redactor::process(uint8_t* data, size_t size) {
  size_t masked = 0;
  for (size_t i = 0; i < size; ++i) frameByte(data[i], masked);
  // A deferred value continues in a later call: its octets here cannot wait.
  if (deferring_) {
    flushDeferred();
    deferring_ = false;
  }
  return masked;
}

}  // namespace aa
