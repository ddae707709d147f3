// Status and StatusOr: how expected failures (bad file, missing permission, refused
// probe) travel. A message names the thing and the reason, ready for one line on stderr.
// Both are [[nodiscard]]: a failure is handled, returned (AA_RETURN_IF_ERROR,
// AA_ASSIGN_OR_RETURN) or dropped visibly with (void). Bugs are AA_CHECK (store/check.h).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace aa {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status error(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !message_.has_value(); }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return message_ ? *message_ : kOk;
  }

 private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}
  StatusOr(Status status) : v_(std::move(status)) {}
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& value() const& { return std::get<T>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace aa

#define AA_RETURN_IF_ERROR(expr)        \
  do {                                  \
    ::aa::Status aa_status_ = (expr);   \
    if (!aa_status_.ok()) return aa_status_; \
  } while (0)

#define AA_STATUS_CONCAT_INNER(a, b) a##b
#define AA_STATUS_CONCAT(a, b) AA_STATUS_CONCAT_INNER(a, b)

// AA_ASSIGN_OR_RETURN(auto x, f()); or AA_ASSIGN_OR_RETURN(x, f()); returns f()'s status
// from the enclosing function when it failed, otherwise moves the value into the lhs.
#define AA_ASSIGN_OR_RETURN(lhs, expr) \
  AA_ASSIGN_OR_RETURN_IMPL(AA_STATUS_CONCAT(aa_status_or_, __LINE__), lhs, expr)
#define AA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
