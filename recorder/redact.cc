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

// ---- the rules ----

RedactRules::RedactRules()
    : headers_{"authorization", "proxy-authorization", "authentication", "cookie", "set-cookie",
               "x-api-key", "api-key"},
      headerParts_{"token", "secret", "passw", "api-key", "apikey", "api_key", "credential",
                   "session", "authoriz", "authentic", "signature", "x-auth", "-auth-"},
      notHeaders_{":authority", "www-authenticate", "proxy-authenticate"},
      keys_{"key", "auth", "pwd", "pass", "sig", "codeverifier"},
      keySuffixes_{"apikey", "token", "secret", "password", "passwd", "privatekey", "secretkey",
                   "accesskey", "signature", "credential", "credentials", "sessionid", "cookie"} {}

const RedactRules& RedactRules::builtin() {
  static const RedactRules kBuiltin;
  return kBuiltin;
}

std::string RedactRules::normalizeKey(std::string_view key) {
  std::string n;
  n.reserve(key.size());
  for (char c : key) {
    if (c == '-' || c == '_' || c == '.') continue;
    n.push_back(static_cast<char>(lower(static_cast<uint8_t>(c))));
  }
  return n;
}

void RedactRules::addHeader(std::string_view name) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(lower(static_cast<uint8_t>(c))));
  if (!n.empty()) headers_.push_back(n);
}

void RedactRules::addKey(std::string_view key) {
  std::string n = normalizeKey(key);
  if (!n.empty()) keys_.push_back(n);
}

bool RedactRules::secretHeader(std::string_view name) const {
  std::string n;
  n.reserve(name.size());
  for (char c : name) n.push_back(static_cast<char>(lower(static_cast<uint8_t>(c))));
  for (const auto& e : headers_)
    if (n == e) return true;
  for (const auto& e : notHeaders_)
    if (n == e) return false;
  for (const auto& p : headerParts_)
    if (n.find(p) != std::string::npos) return true;
  return false;
}

bool RedactRules::secretKey(std::string_view key) const {
  // normalized on the stack (called for every key of every JSON body)
  char buf[128];
  size_t len = 0;
  std::string heap;
  for (char c : key) {
    if (c == '-' || c == '_' || c == '.') continue;
    if (len == sizeof buf) {
      heap = normalizeKey(key);
      break;
    }
    buf[len++] = static_cast<char>(lower(static_cast<uint8_t>(c)));
  }
  const std::string_view n = heap.empty() ? std::string_view(buf, len) : std::string_view(heap);
  if (n.empty()) return false;
  for (const auto& e : keys_)
    if (n == e) return true;
  for (const auto& suffix : keySuffixes_)
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  return false;
}

std::vector<std::string> RedactRules::describe() const {
  std::vector<std::string> out;
  for (const auto& e : headers_) out.push_back("header:" + e);
  for (const auto& e : headerParts_) out.push_back("header-part:" + e);
  for (const auto& e : notHeaders_) out.push_back("not-header:" + e);
  for (const auto& e : keys_) out.push_back("key:" + e);
  for (const auto& e : keySuffixes_) out.push_back("key-suffix:" + e);
  return out;
}

bool isSecretHeader(std::string_view name) { return RedactRules::builtin().secretHeader(name); }

// ---- URL queries, forms, JSON ----

namespace {

bool isKeyChar(uint8_t c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c == '_' || c == '-' || c == '.' || c == '[' || c == ']' || c == '%' || c == '$';
}

// What ends a query or form value (besides '&', which starts the next key).
bool endsValue(uint8_t c) {
  switch (c) {
    case ' ': case '\t': case '\r': case '\n': case '#': case '"': case '\'': case '<': case '>':
    case '\\':
      return true;
    default:
      return false;
  }
}

bool isJsonSpace(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

void TextRedactor::reset(bool formAtStart) {
  q_ = formAtStart ? Q::kKey : Q::kIdle;
  qKey_.clear();
  qSecret_ = false;
  outer_ = Json();
  inner_ = Json();
}

bool TextRedactor::feedQuery(uint8_t& c) {
  switch (q_) {
    case Q::kIdle:
      if (c == '?') {
        q_ = Q::kKey;
        qKey_.clear();
      }
      return false;
    case Q::kKey:
      if (c == '=') {
        qSecret_ = !qKey_.overflow && rules().secretKey(qKey_.view());
        q_ = Q::kValue;
      } else if (c == '&' || c == '?') {
        qKey_.clear();
      } else if (isKeyChar(c)) {
        qKey_.push(c);
      } else {
        q_ = Q::kIdle;
      }
      return false;
    case Q::kValue:
      if (c == '&') {
        q_ = Q::kKey;
        qKey_.clear();
        return false;
      }
      if (endsValue(c)) {
        q_ = Q::kIdle;
        return false;
      }
      return qSecret_;
  }
  return false;
}

bool TextRedactor::stepJson(Json& s, uint8_t c) const {
  switch (s.j) {
    case J::kOut:
      if (c == '"') {
        s.j = J::kString;
        s.buf.clear();
      }
      return false;
    case J::kString:
      if (c == '\\') {
        s.j = J::kEscape;
      } else if (c == '"') {
        s.j = J::kAfterString;
      } else {
        s.buf.push(c);
      }
      return false;
    case J::kEscape:
      s.buf.push(c);
      s.j = J::kString;
      return false;
    case J::kAfterString:
      if (isJsonSpace(c)) return false;
      if (c == ':') {
        // the string was a key: its value is masked when it is a string
        s.j = J::kColon;
        s.secretKey = !s.buf.overflow && rules().secretKey(s.buf.view());
        return false;
      }
      s.j = J::kOut;
      return stepJson(s, c);
    case J::kColon:
      if (isJsonSpace(c)) return false;
      if (c == '"') {
        if (s.secretKey) {
          s.j = J::kSecret;
        } else {
          s.j = J::kString;
          s.buf.clear();
        }
        return false;
      }
      s.j = J::kOut;
      return false;
    case J::kSecret:
      if (c == '\\') {
        s.j = J::kSecretEscape;
        return true;
      }
      if (c == '"') {
        s.j = J::kOut;
        return false;
      }
      return true;
    case J::kSecretEscape:
      s.j = J::kSecret;
      return true;
  }
  return false;
}

// A JSON string can hold JSON itself (a tool call's "arguments"): its unescaped
// characters go through a second scanner, one level deep.
bool TextRedactor::feedJson(uint8_t c) {
  const J before = outer_.j;
  bool mask = stepJson(outer_, c);
  const bool inString = before == J::kString || before == J::kEscape;
  if (outer_.j == J::kString && !inString) {
    inner_ = Json();   // a string starts
  } else if (before == J::kString && c != '\\' && c != '"') {
    mask = stepJson(inner_, c) || mask;
  } else if (before == J::kEscape) {
    uint8_t u = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
    mask = stepJson(inner_, u) || mask;
  }
  return mask;
}

bool TextRedactor::feedSlow(uint8_t& c) {
  uint8_t original = c;
  bool a = (q_ == Q::kIdle && c != '?') ? false : feedQuery(original);
  bool b;
  if (outer_.j == J::kString && inner_.j == J::kOut && c != '"' && c != '\\') {
    outer_.buf.push(c);   // inside a string, nothing nested: the common case
    b = false;
  } else {
    b = feedJson(original);
  }
  if (!a && !b) return false;
  c = kRedactByte;
  return true;
}

size_t TextRedactor::process(uint8_t* data, size_t size) {
  size_t masked = 0;
  for (size_t i = 0; i < size; ++i) masked += feed(data[i]) ? 1 : 0;
  return masked;
}

// ---- command lines ----

namespace {

// A shell word: the positions in its argument of the characters it is made of (quote
// characters excluded), so masks land on the original bytes.
struct Word {
  std::string* arg;
  std::vector<size_t> at;
  std::string text() const {
    std::string t;
    for (size_t i : at) t.push_back((*arg)[i]);
    return t;
  }
  size_t mask(size_t from, size_t to) {
    size_t n = 0;
    for (size_t k = from; k < to && k < at.size(); ++k) {
      char& ch = (*arg)[at[k]];
      if (ch != static_cast<char>(kRedactByte)) {
        ch = static_cast<char>(kRedactByte);
        ++n;
      }
    }
    return n;
  }
};

// Splits like a POSIX shell would for quoting ('...', "...", backslash), no expansion.
std::vector<Word> shellWords(std::string& arg) {
  std::vector<Word> words;
  Word cur{&arg, {}};
  bool inWord = false;
  char quote = 0;
  for (size_t i = 0; i < arg.size(); ++i) {
    char c = arg[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (quote == '"' && c == '\\' && i + 1 < arg.size()) {
        cur.at.push_back(++i);
      } else {
        cur.at.push_back(i);
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '|' || c == '&') {
      if (inWord) words.push_back(std::move(cur));
      cur = Word{&arg, {}};
      inWord = false;
      continue;
    }
    inWord = true;
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < arg.size()) {
      cur.at.push_back(++i);
    } else {
      cur.at.push_back(i);
    }
  }
  if (inWord) words.push_back(std::move(cur));
  return words;
}

enum class ValueKind { kNone, kHeader, kUserPass, kCookie, kWhole };

// What the value of option `name` (with its dashes) holds.
ValueKind optionValue(const std::string& name, const RedactRules& rules) {
  if (name == "-H" || name == "--header" || name == "--proxy-header") return ValueKind::kHeader;
  if (name == "-u" || name == "--user" || name == "-U" || name == "--proxy-user")
    return ValueKind::kUserPass;
  if (name == "-b" || name == "--cookie") return ValueKind::kCookie;
  if (name == "--oauth2-bearer" || name == "--pass") return ValueKind::kWhole;
  if (name.size() > 2 && name[0] == '-' && name[1] == '-') {
    std::string key = RedactRules::normalizeKey(name.substr(2));
    if (key.rfind("no", 0) == 0) return ValueKind::kNone;   // --no-password takes no value
    if (rules.secretKey(name.substr(2))) return ValueKind::kWhole;
  }
  return ValueKind::kNone;
}

// Masks the secret part of `w`'s characters [from, end) as an option value of `kind`.
size_t maskValue(Word& w, size_t from, ValueKind kind, const RedactRules& rules) {
  const std::string t = w.text();
  switch (kind) {
    case ValueKind::kNone:
      return 0;
    case ValueKind::kHeader: {
      size_t colon = t.find(':', from);
      if (colon == std::string::npos) return 0;
      std::string name = t.substr(from, colon - from);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
      if (!rules.secretHeader(name)) return 0;
      size_t v = colon + 1;
      while (v < t.size() && (t[v] == ' ' || t[v] == '\t')) ++v;
      return w.mask(v, t.size());
    }
    case ValueKind::kUserPass: {
      size_t colon = t.find(':', from);
      return colon == std::string::npos ? 0 : w.mask(colon + 1, t.size());
    }
    case ValueKind::kCookie:
      return t.find('=', from) == std::string::npos ? 0 : w.mask(from, t.size());
    case ValueKind::kWhole:
      return w.mask(from, t.size());
  }
  return 0;
}

// Rules on one word by itself: "Name: value" with a secret header name, NAME=VALUE
// with a secret NAME, user:password@ in a URL, and TextRedactor's queries and JSON.
size_t maskWord(Word& w, const RedactRules& rules) {
  size_t n = 0;
  const std::string t = w.text();
  size_t colon = t.find(':');
  if (colon != std::string::npos && colon > 0) {
    std::string name = t.substr(0, colon);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    bool token = !name.empty();
    for (char c : name) token = token && (isTokenChar(static_cast<uint8_t>(c)));
    if (token && rules.secretHeader(name)) {
      size_t v = colon + 1;
      while (v < t.size() && t[v] == ' ') ++v;
      n += w.mask(v, t.size());
    }
  }
  size_t eq = t.find('=');
  if (eq != std::string::npos && eq > 0 && t[0] != '-') {
    bool name = true;
    for (size_t k = 0; k < eq; ++k) name = name && isKeyChar(static_cast<uint8_t>(t[k]));
    if (name && rules.secretKey(t.substr(0, eq))) n += w.mask(eq + 1, t.size());
  }
  size_t scheme = t.find("://");
  if (scheme != std::string::npos) {
    size_t hostStart = scheme + 3;
    size_t hostEnd = t.find_first_of("/?#", hostStart);
    if (hostEnd == std::string::npos) hostEnd = t.size();
    size_t at = t.rfind('@', hostEnd);
    if (at != std::string::npos && at > hostStart) {
      size_t c = t.find(':', hostStart);
      if (c != std::string::npos && c < at) n += w.mask(c + 1, at);
    }
  }
  TextRedactor text(&rules);
  text.reset(true);
  for (size_t k = 0; k < t.size(); ++k) {
    uint8_t c = static_cast<uint8_t>(t[k]);
    if (text.feed(c)) n += w.mask(k, k + 1);
  }
  return n;
}

// Option/value pairs along a sequence of words, then each word by itself.
size_t maskWords(std::vector<Word>& words, const RedactRules& rules) {
  size_t n = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string t = words[i].text();
    if (t.size() >= 2 && t[0] == '-') {
      size_t eq = t.find('=');
      if (t[1] == '-' && eq != std::string::npos) {
        // --name=value
        n += maskValue(words[i], eq + 1, optionValue(t.substr(0, eq), rules), rules);
      } else if (ValueKind k = optionValue(t, rules); k != ValueKind::kNone) {
        if (i + 1 < words.size()) {
          const std::string next = words[i + 1].text();
          if (!(k == ValueKind::kWhole && !next.empty() && next[0] == '-'))
            n += maskValue(words[i + 1], 0, k, rules);
        }
      } else if (t[1] != '-' && t.size() > 2) {
        // -Hvalue, -uuser:pass: a short option with its value attached
        ValueKind k2 = optionValue(t.substr(0, 2), rules);
        if (k2 != ValueKind::kNone) n += maskValue(words[i], 2, k2, rules);
      }
    }
    n += maskWord(words[i], rules);
  }
  return n;
}

}  // namespace

size_t redactArgv(std::vector<std::string>& argv, const RedactRules& rules) {
  size_t n = 0;
  std::vector<Word> top;
  for (auto& a : argv) {
    Word w{&a, {}};
    for (size_t i = 0; i < a.size(); ++i) w.at.push_back(i);
    top.push_back(std::move(w));
  }
  n += maskWords(top, rules);
  for (auto& a : argv) {
    if (a.find_first_of(" \t\n") == std::string::npos) continue;
    std::vector<Word> words = shellWords(a);
    n += maskWords(words, rules);
  }
  return n;
}

// ---- HTTP/1 ----

void HttpRedactor::endLine() {
  if (mode_ == Mode::kHeaders) {
    if (!lineHasText_) {
      mode_ = Mode::kBody;  // the empty line ending a header block
      text_.reset(true);    // a form body starts with its first key
    } else {
      text_.reset(false);   // each header line on its own: a query after its '?'
    }
  } else if (lineHasHttp_) {
    mode_ = Mode::kHeaders;
    text_.reset(false);
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
  const RedactRules* rules = rules_;
  *this = HttpRedactor(rules);
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
    // In a body, runs of bytes that change no state but a string's first characters
    // are skipped at once (a download, a long prompt).
    if (mode_ == Mode::kBody && httpMatch_ == 0 && (!prefaceLive_ || seen_ >= kH2Preface.size()) &&
        text_.canSkip()) {
      static const auto kStop = [] {
        std::array<bool, 256> t{};
        for (uint8_t b : {'\n', 'H', '?', '"', '\\'}) t[b] = true;
        return t;
      }();
      size_t j = i;
      while (j < size && !kStop[data[j]]) ++j;
      if (j > i) {
        text_.absorb(data + i, j - i);
        seen_ += j - i;
        i = j;
        if (i == size) break;
      }
    }
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
      if (mode_ == Mode::kBody) text_.feed(data[i]);
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
    if (mode_ == Mode::kBody) {
      if (text_.feed(data[i])) ++masked;
      continue;
    }

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
          secret_ = rules().secretHeader(name_);
          line_ = Line::kValueLead;
        } else if (isTokenChar(c) && name_.size() < kMaxName) {
          name_.push_back(static_cast<char>(lower(c)));
        } else if ((c == ' ' || c == '\t') && !name_.empty()) {
          line_ = Line::kNameSpace;  // "Name : value" is invalid, but is sent all the same
        } else {
          line_ = Line::kSkip;  // a request or status line, or not a header
        }
        break;
      case Line::kNameSpace:
        if (c == ':') {
          secret_ = rules().secretHeader(name_);
          line_ = Line::kValueLead;
        } else if (c != ' ' && c != '\t') {
          line_ = Line::kSkip;  // "GET /path HTTP/1.1"
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
    // URL queries anywhere in the header block (the request line, Referer, Location)
    if (!(secret_ && line_ == Line::kValue) && text_.feed(data[i])) ++masked;
  }
  if (http2_ && i < size) {
    if (!h2_) h2_ = std::make_unique<Http2Redactor>(rules_);
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
  secret_ = !nameKnown_ || rules().secretHeader(name_);
  query_.setRules(rules_);
  query_.reset(false);
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
  if (deferring_ && pathDefer_) {
    // A Huffman :path: masked whole when its text has a secret query parameter.
    auto text = hpackHuffmanDecode(valueRaw_);
    bool secret = !text;
    if (text) {
      TextRedactor scan(rules_);
      scan.reset(false);
      for (char ch : *text) {
        uint8_t b = static_cast<uint8_t>(ch);
        if (scan.feed(b)) secret = true;
      }
    }
    if (!secret) deferred_.clear();
  }
  pathDefer_ = false;
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
      pathDefer_ = !secret_ && huffman_ && name_ == ":path";
      if (pathDefer_) deferring_ = true;
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
      } else if (pathDefer_) {
        deferred_.push_back(&b);
      } else if (!huffman_ && query_.feed(b)) {
        ++masked;
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
  constexpr uint8_t kData = 0x0, kHeaders = 0x1, kPushPromise = 0x5, kContinuation = 0x9;
  constexpr uint8_t kEndStream = 0x1;
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
      streamId_ = ((uint32_t(hdr_[5]) & 0x7f) << 24) | (uint32_t(hdr_[6]) << 16) |
                  (uint32_t(hdr_[7]) << 8) | hdr_[8];
      if (type_ == kData) {
        dataEnd_ = (flags_ & kEndStream) != 0;
        if (left_ == 0) {
          if (dataEnd_) bodies_.erase(streamId_);
          st_ = St::kFrameHeader;
        } else {
          st_ = (flags_ & kPadded) ? St::kDataPadLength : St::kData;
          body_ = nullptr;   // looked up at the first payload byte
        }
      } else if (type_ == kContinuation) {
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
    case St::kDataPadLength:
      pad_ = b;
      --left_;
      if (pad_ > left_) pad_ = left_;
      st_ = left_ ? St::kData : St::kFrameHeader;
      if (left_ == 0 && dataEnd_) bodies_.erase(streamId_);
      return;
    case St::kData:
      if (left_ > pad_) dataByte(b, masked);
      if (--left_ == 0) {
        st_ = St::kFrameHeader;
        if (dataEnd_) bodies_.erase(streamId_);
      }
      return;
  }
}

void Http2Redactor::dataByte(uint8_t& b, size_t& masked) {
  if (!body_) {
    auto it = bodies_.find(streamId_);
    if (it == bodies_.end()) {
      if (bodies_.size() >= 1024) bodies_.clear();   // streams that never ended
      it = bodies_.emplace(streamId_, TextRedactor(rules_)).first;
      it->second.reset(true);
    }
    body_ = &it->second;   // stable until erased, which ends the frame
  }
  if (body_->feed(b)) ++masked;
}

size_t Http2Redactor::process(uint8_t* data, size_t size) {
  size_t masked = 0;
  for (size_t i = 0; i < size; ++i) frameByte(data[i], masked);
  // A deferred value continues in a later call: its octets here cannot wait.
  if (deferring_) {
    flushDeferred();
    deferring_ = false;
    if (pathDefer_) {
      pathDefer_ = false;
      secret_ = true;   // the rest of that :path too: half a mask hides nothing
    }
  }
  return masked;
}

}  // namespace aa
