// A strict, small JSON parser (RFC 8259) for tests: checks that what the CLI emits is
// valid JSON, then lets tests look at fields. Numbers keep their text so 64-bit values
// compare exactly. Object keys keep their order (the JSON Lines contract fixes it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jsonlite {

struct Value {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  bool boolean = false;
  std::string text;   // number text, or decoded string
  std::vector<Value> items;
  // Object members as parallel lists: a vector of an incomplete type is allowed
  // (C++17), a std::pair holding one is not.
  std::vector<std::string> memberKeys;
  std::vector<Value> memberValues;

  const Value* find(std::string_view key) const {
    for (size_t i = 0; i < memberKeys.size(); ++i)
      if (memberKeys[i] == key) return &memberValues[i];
    return nullptr;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  const Value& operator[](std::string_view key) const {
    static const Value kMissing;
    const Value* v = find(key);
    return v ? *v : kMissing;
  }
  std::vector<std::string> keys() const { return memberKeys; }
  int64_t i64() const { return std::stoll(text); }
  uint64_t u64() const { return std::stoull(text); }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  // The whole input must be one value (surrounding whitespace allowed).
  std::optional<Value> parseDocument(std::string* error) {
    Value v;
    ws();
    if (!value(v, 0)) return fail(error);
    ws();
    if (i_ != s_.size()) {
      err_ = "trailing characters";
      return fail(error);
    }
    return v;
  }

 private:
  std::optional<Value> fail(std::string* error) {
    if (error) *error = err_ + " at byte " + std::to_string(i_);
    return std::nullopt;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return err("bad literal");
    i_ += w.size();
    return true;
  }
  bool err(const char* m) {
    if (err_.empty()) err_ = m;
    return false;
  }
  bool value(Value& v, int depth) {
    if (depth > 200) return err("too deep");
    if (i_ >= s_.size()) return err("unexpected end");
    char c = s_[i_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.type = Value::kString;
      return string(v.text);
    }
    if (c == 't') { v.type = Value::kBool; v.boolean = true; return lit("true"); }
    if (c == 'f') { v.type = Value::kBool; return lit("false"); }
    if (c == 'n') return lit("null");
    return number(v);
  }
  bool number(Value& v) {
    size_t st = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !isdigit(s_[i_])) return err("bad number");
    if (s_[i_] == '0') ++i_;
    else while (i_ < s_.size() && isdigit(s_[i_])) ++i_;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !isdigit(s_[i_])) return err("bad fraction");
      while (i_ < s_.size() && isdigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !isdigit(s_[i_])) return err("bad exponent");
      while (i_ < s_.size() && isdigit(s_[i_])) ++i_;
    }
    v.type = Value::kNumber;
    v.text = std::string(s_.substr(st, i_ - st));
    return true;
  }
  static bool isdigit(char c) { return c >= '0' && c <= '9'; }
  bool hex4(uint32_t& out) {
    if (i_ + 4 > s_.size()) return err("short \\u escape");
    out = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      out <<= 4;
      if (c >= '0' && c <= '9') out |= c - '0';
      else if (c >= 'a' && c <= 'f') out |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') out |= c - 'A' + 10;
      else return err("bad \\u escape");
    }
    return true;
  }
  static void utf8(std::string& o, uint32_t cp) {
    if (cp < 0x80) o += char(cp);
    else if (cp < 0x800) { o += char(0xC0 | cp >> 6); o += char(0x80 | (cp & 63)); }
    else if (cp < 0x10000) {
      o += char(0xE0 | cp >> 12); o += char(0x80 | (cp >> 6 & 63)); o += char(0x80 | (cp & 63));
    } else {
      o += char(0xF0 | cp >> 18); o += char(0x80 | (cp >> 12 & 63));
      o += char(0x80 | (cp >> 6 & 63)); o += char(0x80 | (cp & 63));
    }
  }
  bool string(std::string& out) {
    ++i_;  // opening quote
    while (true) {
      if (i_ >= s_.size()) return err("unterminated string");
      unsigned char c = s_[i_];
      if (c == '"') { ++i_; return true; }
      if (c < 0x20) return err("control character in string");
      if (c >= 0x80) {
        // Must be valid UTF-8 (RFC 8259 section 8.1).
        size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
        if (n == 0 || i_ + n > s_.size()) return err("invalid UTF-8");
        for (size_t k = 1; k < n; ++k)
          if ((static_cast<unsigned char>(s_[i_ + k]) & 0xC0) != 0x80) return err("invalid UTF-8");
        out.append(s_.substr(i_, n));
        i_ += n;
        continue;
      }
      if (c != '\\') { out += char(c); ++i_; continue; }
      if (++i_ >= s_.size()) return err("bad escape");
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (s_.substr(i_, 2) != "\\u") return err("lone surrogate");
            i_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return err("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return err("lone surrogate");
          }
          utf8(out, cp);
          break;
        }
        default: return err("bad escape");
      }
    }
  }
  bool array(Value& v, int depth) {
    v.type = Value::kArray;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == ']') { ++i_; return true; }
    while (true) {
      v.items.emplace_back();
      ws();
      if (!value(v.items.back(), depth + 1)) return false;
      ws();
      if (i_ >= s_.size()) return err("unterminated array");
      if (s_[i_] == ',') { ++i_; continue; }
      if (s_[i_] == ']') { ++i_; return true; }
      return err("expected , or ]");
    }
  }
  bool object(Value& v, int depth) {
    v.type = Value::kObject;
    ++i_;
    ws();
    if (i_ < s_.size() && s_[i_] == '}') { ++i_; return true; }
    while (true) {
      ws();
      if (i_ >= s_.size() || s_[i_] != '"') return err("expected key");
      std::string k;
      if (!string(k)) return false;
      ws();
      if (i_ >= s_.size() || s_[i_] != ':') return err("expected :");
      ++i_;
      ws();
      v.memberKeys.push_back(std::move(k));
      v.memberValues.emplace_back();
      if (!value(v.memberValues.back(), depth + 1)) return false;
      ws();
      if (i_ >= s_.size()) return err("unterminated object");
      if (s_[i_] == ',') { ++i_; continue; }
      if (s_[i_] == '}') { ++i_; return true; }
      return err("expected , or }");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string err_;
};

inline std::optional<Value> parse(std::string_view s, std::string* error = nullptr) {
  return Parser(s).parseDocument(error);
}

}  // namespace jsonlite
