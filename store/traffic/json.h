// A small JSON value, parser and writer for the bodies of LLM API calls.
//
// Parsing is strict RFC 8259 except that it never throws and never recurses deeper than
// kMaxDepth (hostile bodies come from the network). Numbers keep their source text so
// that token counts and ids round-trip exactly; strings are decoded to UTF-8 (lone
// surrogates become U+FFFD). Object members keep their order; lookups are linear, which
// is right for the small objects of API payloads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/render/json_string.h"
#include "store/status.h"
#include "store/render/utf8.h"

namespace aa::traffic {

class Json {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, Json>;

  Json() = default;
  static Json boolean(bool b);
  static Json number(std::string text);   // text must be a valid JSON number
  static Json number(int64_t v);
  static Json string(std::string s);
  static Json array();
  static Json object();

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::kNull; }
  bool isBool() const { return type_ == Type::kBool; }
  bool isNumber() const { return type_ == Type::kNumber; }
  bool isString() const { return type_ == Type::kString; }
  bool isArray() const { return type_ == Type::kArray; }
  bool isObject() const { return type_ == Type::kObject; }

  bool asBool() const { return type_ == Type::kBool && bool_; }
  // The number as an integer when it is one that fits; nullopt otherwise.
  std::optional<int64_t> asInt() const;
  // String contents, or the number's text; "" for other types.
  const std::string& str() const { return text_; }

  // Array elements / object members (empty for other types).
  const std::vector<Json>& items() const;
  const std::vector<Member>& members() const;
  size_t size() const;

  // Object member by name (first match), or nullptr. Safe on any type.
  const Json* find(std::string_view key) const;
  // Chained lookups that tolerate absent members: j.get("a").get("b").str().
  const Json& get(std::string_view key) const;
  const Json& at(size_t i) const;

  // Mutation, for building values and for assembling streamed fragments.
  Json& push(Json v);                          // array append
  Json& set(std::string key, Json v);          // object: replace or append
  std::string& mutableStr() { return text_; }

  // Compact serialization (no spaces), strings escaped; non-UTF-8 bytes become U+FFFD.
  std::string dump() const;
  void dumpTo(std::string& out) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;   // string value or number text
  std::shared_ptr<std::vector<Json>> items_;
  std::shared_ptr<std::vector<Member>> members_;
  friend class JsonParser;
};

constexpr int kJsonMaxDepth = 200;

// Parses one JSON document (surrounding whitespace allowed). A failure says
// "offset N: reason".
StatusOr<Json> parseJson(std::string_view text);

// String literals are written by aa::appendJsonString (store/render/json_string.h) and
// UTF-8 is judged by aa::isValidUtf8 (store/render/utf8.h), as in every other output.
using ::aa::appendJsonString;
using ::aa::isValidUtf8;

}  // namespace aa::traffic
