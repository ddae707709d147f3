// Redaction of secrets before they reach the disk: in captured HTTP/1.x and HTTP/2
// plaintext, and in command lines (exec argv, the recorded command).
//
// What is secret is one list, RedactRules: header names (exact, and parts of names),
// and keys (exact, and suffixes) for URL query parameters, form fields, JSON fields
// and command-line options. The user extends it (aa-record --redact-header,
// --redact-key); the session header records it. Every mask has the length of what it
// hides.
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
//
// HTTP/2: a stream that starts with the client connection preface, or with a frame
// header (first byte 0: frames shorter than 64 KiB; HTTP/1 never starts so), is parsed
// as frames; header blocks (HEADERS, PUSH_PROMISE, CONTINUATION) are walked with HPACK
// (static table, a dynamic table mirrored by size, Huffman-coded names decoded) and the
// value octets of secret fields are overwritten in place: '*' when the string is
// literal, 0xf9 when it is Huffman-coded (the 8-bit code of '*', so the block still
// decodes, to "****"). A field whose name cannot be known (the mirrored table lost
// track) is treated as secret.
// Beyond headers (TextRedactor, on header lines and bodies alike): the value of every
// secret URL query parameter ("?key=...", "&access_token=..."), form field at the
// start of a body ("client_secret=...&..."), and JSON string field ("api_key": "..."),
// also inside a JSON string that holds JSON (a tool call's "arguments"), one level.
// On HTTP/2, DATA frames get the same, per stream; a literal :path (or any literal
// header value) its query; a Huffman-coded :path with a secret parameter is masked
// whole. A header written "Name : value" (a space before the colon) counts as one.
// Not covered: compressed bodies (gzip, zstd), JSON escaped twice over, and anything
// whose name or key is not on the list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aa {

inline constexpr uint8_t kRedactByte = '*';

// The one list of what is secret. Built-in:
// - headers, exact (any case): authorization, proxy-authorization, authentication,
//   cookie, set-cookie, x-api-key, api-key; and any name containing token, secret,
//   passw, api-key, apikey, api_key, credential, session, authoriz, authentic,
//   signature, x-auth, -auth- (except :authority, www-authenticate, proxy-authenticate);
// - keys, compared with case, '-', '_' and '.' ignored ("X-Api-Key" = "xapikey"):
//   exact key, auth, pwd, pass, sig, code_verifier; and any key ending in apikey,
//   token, secret, password, passwd, privatekey, secretkey, accesskey, signature,
//   credential, credentials, sessionid, cookie.
class RedactRules {
 public:
  RedactRules();                       // the built-in list
  void addHeader(std::string_view name);   // one more exact header name
  void addKey(std::string_view key);       // one more exact key
  bool secretHeader(std::string_view name) const;
  bool secretKey(std::string_view key) const;
  // The list as recorded in a session header: "header:NAME", "header-part:TEXT",
  // "key:KEY", "key-suffix:TEXT" (keys normalized).
  std::vector<std::string> describe() const;
  static std::string normalizeKey(std::string_view key);
  static const RedactRules& builtin();

 private:
  std::vector<std::string> headers_, headerParts_, notHeaders_, keys_, keySuffixes_;
};

// Whether a header (name in any case) carries a secret, by the built-in rules.
bool isSecretHeader(std::string_view name);

// Streaming masker for text that may hold URLs, form data or JSON: the values of
// secret query/form parameters and JSON string fields become '*'. One byte at a time,
// so any split between calls is fine.
class TextRedactor {
 public:
  explicit TextRedactor(const RedactRules* rules = nullptr) : rules_(rules) {}
  void setRules(const RedactRules* rules) { rules_ = rules; }
  // Starts over; `formAtStart`: the text may begin with "key=value&..." (a body, an
  // argument) rather than only after a '?'.
  void reset(bool formAtStart);
  // Feeds one byte, masking it in place when it is part of a secret value; true then.
  bool feed(uint8_t& c) {
    // Most bytes of most text: outside any query, outside or inside a JSON string
    // with nothing nested in it.
    if (q_ == Q::kIdle && c != '?' && c != '"' && c != '\\') {
      if (outer_.j == J::kOut) return false;
      if (outer_.j == J::kString && inner_.j == J::kOut) {
        outer_.buf.push(c);
        return false;
      }
    }
    return feedSlow(c);
  }
  size_t process(uint8_t* data, size_t size);
  // Whether bytes other than '?', '"', '\\' change nothing now but the current
  // string's first characters; absorb() takes such a run.
  bool canSkip() const {
    return q_ == Q::kIdle &&
           (outer_.j == J::kOut || (outer_.j == J::kString && inner_.j == J::kOut));
  }
  void absorb(const uint8_t* data, size_t size) {
    if (outer_.j != J::kString) return;
    for (size_t k = 0; k < size && !outer_.buf.overflow; ++k) outer_.buf.push(data[k]);
  }

 private:
  const RedactRules& rules() const { return rules_ ? *rules_ : RedactRules::builtin(); }
  bool feedQuery(uint8_t& c);
  static constexpr size_t kMaxKey = 64;
  // A key being read: no allocation on the per-byte path.
  struct KeyBuf {
    char d[kMaxKey];
    uint8_t n = 0;
    bool overflow = false;
    void clear() { n = 0; overflow = false; }
    void push(uint8_t c) {
      if (n < kMaxKey) d[n++] = static_cast<char>(c);
      else overflow = true;
    }
    std::string_view view() const { return {d, n}; }
  };
  enum class J : uint8_t { kOut, kString, kEscape, kAfterString, kColon, kSecret, kSecretEscape };
  struct Json {
    J j = J::kOut;
    bool secretKey = false;    // the key before the current ':' is secret
    KeyBuf buf;                // the current string (a key when a ':' follows)
  };
  bool stepJson(Json& s, uint8_t c) const;
  bool feedJson(uint8_t c);
  bool feedSlow(uint8_t& c);

  const RedactRules* rules_;
  enum class Q : uint8_t { kIdle, kKey, kValue } q_ = Q::kIdle;
  bool qSecret_ = false;
  KeyBuf qKey_;
  Json outer_, inner_;
};

// Masks secrets in a command line in place, same lengths: values of -H/--header
// lines with a secret header name, -u/--user and --proxy-user passwords (after the
// first ':'), -b/--cookie values holding '=', --oauth2-bearer and --pass values,
// options whose name is a secret key (--token X, --api-key=X), NAME=VALUE with a
// secret NAME, user:password@ in URLs, and what TextRedactor finds (URL queries, JSON
// fields). An argument with spaces (sh -c "...") is also split into shell words and
// scanned the same way. Returns the bytes masked.
size_t redactArgv(std::vector<std::string>& argv, const RedactRules& rules);

// The HPACK/HTTP/2 half of HttpRedactor (used through it).
class Http2Redactor {
 public:
  explicit Http2Redactor(const RedactRules* rules) : rules_(rules) {}
  size_t process(uint8_t* data, size_t size);

 private:
  enum class St : uint8_t {
    kFrameHeader, kPayloadSkip, kPadLength, kPriority, kPromisedId, kBlock, kPadding,
    kData, kDataPadLength
  };
  enum class Rep : uint8_t { kStart, kInt, kNameLen, kName, kValueLen, kValue };
  enum class IntFor : uint8_t { kIndexed, kLiteralName, kSizeUpdate, kNameLen, kValueLen };

  void frameByte(uint8_t& b, size_t& masked);
  void enterBlock();
  void blockByte(uint8_t& b, size_t& masked);
  void startInt(uint8_t b, uint8_t mask, IntFor what);
  void intDone();
  void fieldNamed(std::optional<std::string> name);
  void fieldDone();
  void flushDeferred();
  std::optional<std::string> nameAt(uint64_t index) const;
  void addEntry(const std::string& name, uint64_t valueLen);
  void evict();

  const RedactRules& rules() const { return rules_ ? *rules_ : RedactRules::builtin(); }
  void dataByte(uint8_t& b, size_t& masked);

  const RedactRules* rules_;
  // DATA payloads: one text scanner per stream (bodies of streams interleave)
  std::unordered_map<uint32_t, TextRedactor> bodies_;
  uint32_t streamId_ = 0;
  TextRedactor* body_ = nullptr;   // bodies_[streamId_] during a DATA frame
  bool dataEnd_ = false;       // the current DATA frame ends its stream
  TextRedactor query_;         // a literal, non-secret header value's URL query
  bool pathDefer_ = false;     // a Huffman :path waits for its decoded text

  // frame layer
  St st_ = St::kFrameHeader;
  uint8_t hdr_[9] = {};
  uint32_t hdrHave_ = 0;
  uint32_t left_ = 0;       // payload bytes left in the current frame
  uint8_t type_ = 0, flags_ = 0;
  uint32_t pad_ = 0;        // padding bytes at the end of the current frame
  uint32_t fieldLeft_ = 0;  // bytes left of a priority / promised-id field

  // HPACK layer (state survives frame boundaries: a field may span CONTINUATIONs)
  Rep rep_ = Rep::kStart;
  IntFor intFor_ = IntFor::kIndexed;
  bool incremental_ = false;    // the field enters the dynamic table
  uint64_t int_ = 0;            // integer being decoded
  uint32_t intShift_ = 0;
  bool huffman_ = false;
  uint64_t strLeft_ = 0;
  std::string nameRaw_;         // literal name octets (bounded)
  bool nameTooLong_ = false;
  std::string name_;            // the current field's name, lowercase
  bool nameKnown_ = true;
  bool secret_ = false;
  uint64_t strLen_ = 0;         // octets of the current string
  std::string valueRaw_;        // Huffman value octets, to learn the decoded length
  // A secret Huffman value entering the dynamic table is rewritten at its end so that
  // it decodes to as many characters as the original (decoders' tables stay in step);
  // positions are only valid within one process() call.
  std::vector<uint8_t*> deferred_;
  bool deferring_ = false;
  bool tableLost_ = false;      // our mirror of the dynamic table may be wrong
  struct Entry {
    std::string name;
    uint64_t size;
  };
  std::deque<Entry> table_;     // newest first
  uint64_t tableSize_ = 0, tableMax_ = 4096;
};

// Decodes an HPACK Huffman string (RFC 7541 Appendix B) made of printable ASCII;
// nullopt for anything else (other octets, bad padding).
std::optional<std::string> hpackHuffmanDecode(std::string_view in);

class HttpRedactor {
 public:
  explicit HttpRedactor(const RedactRules* rules = nullptr) : rules_(rules), text_(rules) {}
  // The rules to apply from now on (must outlive this object); nullptr: built-in.
  void useRules(const RedactRules* rules) {
    rules_ = rules;
    text_.setRules(rules);
  }
  // Redacts the next `size` bytes of the stream in place; returns the bytes masked.
  size_t process(uint8_t* data, size_t size);
  // The stream has a gap (bytes not captured): start over, lenient.
  // On HTTP/2 the frame alignment is lost for good: everything after is masked (a
  // reader cannot parse that direction past a gap either).
  void reset();
  bool http2() const { return http2_; }

 private:
  enum class Mode : uint8_t { kHeaders, kBody };
  enum class Line : uint8_t { kStart, kName, kNameSpace, kValueLead, kValue, kSkip };
  static constexpr size_t kMaxName = 64;  // longer names are not ones we redact

  void endLine();
  const RedactRules& rules() const { return rules_ ? *rules_ : RedactRules::builtin(); }

  const RedactRules* rules_;
  TextRedactor text_;            // URL queries in header lines; queries, forms, JSON in bodies
  static constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  uint64_t seen_ = 0;            // stream bytes processed
  bool http2_ = false;
  bool prefaceLive_ = true;      // the bytes so far match the HTTP/2 preface
  bool h2Lost_ = false;          // HTTP/2 after a gap: mask all
  std::unique_ptr<Http2Redactor> h2_;
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
