// Redaction of secrets in captured HTTP/1.x plaintext, before it reaches the disk.
//
// HttpRedactor follows one direction of one connection as a byte stream and overwrites,
// in place, the value of every secret-bearing header with '*' bytes of the same length
// (so offsets, lengths and Content-Length stay consistent with what was sent). The
// header name, the colon, the whitespace before the value and the line ending are
// kept, so "Authorization: Bearer sk-abc\r\n" becomes "Authorization: *************\r\n".
// Its state carries across calls, so a header split between two chunks (even inside
// its name) is still found.
//
// Where headers are: from the start of the stream (lenient: capture may start
// mid-message) up to the first empty line; after that, a body, until a line containing
// "HTTP/1." (a request line ends with it, a status line starts with it) starts the next
// header block. A body line that merely looks like "Cookie: x" is left alone.
// Not covered: HTTP/2 (HPACK-compressed headers), secrets in bodies or URLs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace aa {

inline constexpr uint8_t kRedactByte = '*';

// Whether a header (name in any case) carries a secret: Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, Api-Key, and any name containing
// "token", "secret", "passw", "api-key", "apikey", "api_key", "credential" or "session".
bool isSecretHeader(std::string_view name);

class HttpRedactor {
 public:
  // Redacts the next `size` bytes of the stream in place; returns the bytes masked.
  size_t process(uint8_t* data, size_t size);
  // The stream has a gap (bytes not captured): start over, lenient.
  void reset() { *this = HttpRedactor(); }

 private:
  enum class Mode : uint8_t { kHeaders, kBody };
  enum class Line : uint8_t { kStart, kName, kValueLead, kValue, kSkip };
  static constexpr size_t kMaxName = 64;  // longer names are not ones we redact

  void endLine();

  Mode mode_ = Mode::kHeaders;
  Line line_ = Line::kStart;
  bool secret_ = false;          // the current header's value is masked
  bool prevSecret_ = false;      // the previous header was secret (for folded lines)
  bool lineHasText_ = false;     // the line has a byte other than CR
  uint8_t httpMatch_ = 0;        // bytes of "HTTP/1." matched in the current line
  bool lineHasHttp_ = false;
  std::string name_;             // lowercased header name so far
};

}  // namespace aa
