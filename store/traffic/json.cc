#include "store/traffic/json.h"

#include <charconv>
#include <cstring>

namespace aa::traffic {

namespace {

const Json& nullJson() {
  static const Json kNull;
  return kNull;
}

const std::vector<Json>& emptyItems() {
  static const std::vector<Json> kEmpty;
  return kEmpty;
}

const std::vector<Json::Member>& emptyMembers() {
  static const std::vector<Json::Member> kEmpty;
  return kEmpty;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

Json Json::boolean(bool b) {
  Json j;
  j.type_ = Type::kBool;
  j.bool_ = b;
  return j;
}

Json Json::number(std::string text) {
  Json j;
  j.type_ = Type::kNumber;
  j.text_ = std::move(text);
  return j;
}

Json Json::number(int64_t v) { return number(std::to_string(v)); }

Json Json::string(std::string s) {
  Json j;
  j.type_ = Type::kString;
  j.text_ = std::move(s);
  return j;
}

Json Json::array() {
  Json j;
  j.type_ = Type::kArray;
  j.items_ = std::make_shared<std::vector<Json>>();
  return j;
}

Json Json::object() {
  Json j;
  j.type_ = Type::kObject;
  j.members_ = std::make_shared<std::vector<Member>>();
  return j;
}

std::optional<int64_t> Json::asInt() const {
  if (type_ != Type::kNumber) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
  if (ec != std::errc() || p != text_.data() + text_.size()) return std::nullopt;
  return v;
}

const std::vector<Json>& Json::items() const {
  return type_ == Type::kArray && items_ ? *items_ : emptyItems();
}

const std::vector<Json::Member>& Json::members() const {
  return type_ == Type::kObject && members_ ? *members_ : emptyMembers();
}

size_t Json::size() const {
  if (type_ == Type::kArray) return items().size();
  if (type_ == Type::kObject) return members().size();
  return 0;
}

const Json* Json::find(std::string_view key) const {
  for (const auto& m : members()) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

const Json& Json::get(std::string_view key) const {
  const Json* j = find(key);
  return j ? *j : nullJson();
}

const Json& Json::at(size_t i) const {
  const auto& v = items();
  return i < v.size() ? v[i] : nullJson();
}

Json& Json::push(Json v) {
  if (type_ != Type::kArray) *this = array();
  // Copies share storage; detach before writing so a copy never changes under its owner.
  if (items_.use_count() > 1) items_ = std::make_shared<std::vector<Json>>(*items_);
  items_->push_back(std::move(v));
  return items_->back();
}

Json& Json::set(std::string key, Json v) {
  if (type_ != Type::kObject) *this = object();
  if (members_.use_count() > 1) members_ = std::make_shared<std::vector<Member>>(*members_);
  for (auto& m : *members_) {
    if (m.first == key) {
      m.second = std::move(v);
      return m.second;
    }
  }
  members_->emplace_back(std::move(key), std::move(v));
  return members_->back().second;
}

void Json::dumpTo(std::string& out) const {
  switch (type_) {
    case Type::kNull: out += "null"; break;
    case Type::kBool: out += bool_ ? "true" : "false"; break;
    case Type::kNumber: out += text_; break;
    case Type::kString: appendJsonString(out, text_); break;
    case Type::kArray: {
      out += '[';
      bool first = true;
      for (const auto& v : items()) {
        if (!first) out += ',';
        first = false;
        v.dumpTo(out);
      }
      out += ']';
      break;
    }
    case Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& m : members()) {
        if (!first) out += ',';
        first = false;
        appendJsonString(out, m.first);
        out += ':';
        m.second.dumpTo(out);
      }
      out += '}';
      break;
    }
  }
}

std::string Json::dump() const {
  std::string s;
  dumpTo(s);
  return s;
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  StatusOr<Json> parseDocument() {
    skipWs();
    Json v;
    if (!parseValue(v, 0)) return fail();
    skipWs();
    if (pos_ != s_.size()) {
      err_ = "trailing characters";
      return fail();
    }
    return v;
  }

 private:
  Status fail() const { return Status::error("offset " + std::to_string(pos_) + ": " + err_); }

  bool setErr(const char* e) {
    err_ = e;
    return false;
  }

  void skipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return setErr("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool parseValue(Json& out, int depth) {
    if (depth > kJsonMaxDepth) return setErr("nesting too deep");
    if (pos_ >= s_.size()) return setErr("unexpected end");
    char c = s_[pos_];
    switch (c) {
      case 'n': out = Json(); return literal("null");
      case 't': out = Json::boolean(true); return literal("true");
      case 'f': out = Json::boolean(false); return literal("false");
      case '"': {
        out = Json::string({});
        return parseString(out.text_);
      }
      case '[': return parseArray(out, depth);
      case '{': return parseObject(out, depth);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parseNumber(out);
        return setErr("unexpected character");
    }
  }

  bool parseNumber(Json& out) {
    size_t start = pos_;
    auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    if (s_[pos_] == '-') ++pos_;
    if (!digit()) return setErr("bad number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!digit()) return setErr("bad number");
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digit()) return setErr("bad number");
      while (digit()) ++pos_;
    }
    out = Json::number(std::string(s_.substr(start, pos_ - start)));
    return true;
  }

  bool hex4(uint32_t& v) {
    if (pos_ + 4 > s_.size()) return setErr("bad \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return setErr("bad \\u escape");
    }
    return true;
  }

  bool parseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      // Copy the run of plain bytes at once: bodies are mostly long plain strings.
      size_t run = pos_;
      while (run < s_.size() && s_[run] != '"' && s_[run] != '\\' &&
             static_cast<unsigned char>(s_[run]) >= 0x20) {
        ++run;
      }
      out.append(s_.data() + pos_, run - pos_);
      pos_ = run;
      if (pos_ >= s_.size()) return setErr("unterminated string");
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c != '\\') return setErr("control character in string");
      ++pos_;
      if (pos_ >= s_.size()) return setErr("unterminated string");
      char e = s_[pos_++];
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
          if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < s_.size() && s_[pos_] == '\\' &&
              s_[pos_ + 1] == 'u') {
            size_t save = pos_;
            pos_ += 2;
            uint32_t lo;
            if (!hex4(lo)) return false;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;   // not a pair: the high half stands alone
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
          }
          appendUtf8(out, cp);
          break;
        }
        default: return setErr("bad escape");
      }
    }
  }

  bool parseArray(Json& out, int depth) {
    ++pos_;
    out = Json::array();
    skipWs();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skipWs();
      Json v;
      if (!parseValue(v, depth + 1)) return false;
      out.items_->push_back(std::move(v));
      skipWs();
      if (pos_ >= s_.size()) return setErr("unterminated array");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == ']') { ++pos_; return true; }
      return setErr("expected , or ]");
    }
  }

  bool parseObject(Json& out, int depth) {
    ++pos_;
    out = Json::object();
    skipWs();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skipWs();
      if (pos_ >= s_.size() || s_[pos_] != '"') return setErr("expected member name");
      std::string key;
      if (!parseString(key)) return false;
      skipWs();
      if (pos_ >= s_.size() || s_[pos_] != ':') return setErr("expected :");
      ++pos_;
      skipWs();
      Json v;
      if (!parseValue(v, depth + 1)) return false;
      out.members_->emplace_back(std::move(key), std::move(v));
      skipWs();
      if (pos_ >= s_.size()) return setErr("unterminated object");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == '}') { ++pos_; return true; }
      return setErr("expected , or }");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  const char* err_ = "";
};

StatusOr<Json> parseJson(std::string_view text) { return JsonParser(text).parseDocument(); }

}  // namespace aa::traffic
