#include "recorder/redact.h"

#include <array>

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

size_t HttpRedactor::process(uint8_t* data, size_t size) {
  size_t masked = 0;
  for (size_t i = 0; i < size; ++i) {
    uint8_t c = data[i];
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
  return masked;
}

}  // namespace aa
