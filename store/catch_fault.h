// Where exceptions stop. Cap'n Proto (KJ) reports a malformed message — a bad pointer, a
// traversal limit hit — by throwing, and the standard library throws on a fault of its
// own. Code that reads untrusted bytes or runs a whole command calls catchFault at that
// boundary, and from there on the failure is an aa::Status like any other, its message
// the context and the exception's first line.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <kj/exception.h>
#include <kj/string.h>

#include "store/status.h"

namespace aa {

namespace detail {
inline Status faultStatus(std::string_view context, std::string what) {
  // KJ's descriptions span lines (a stack trace follows): one line for stderr.
  if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
  return Status::error(std::string(context) + ": " + what);
}
}  // namespace detail

// Runs fn (returning Status or void); an exception it throws becomes
// Status::error("CONTEXT: WHAT").
template <typename Fn>
Status catchFault(std::string_view context, Fn&& fn) {
  try {
    if constexpr (std::is_same_v<std::invoke_result_t<Fn&>, Status>) {
      return fn();
    } else {
      fn();
      return Status();
    }
  } catch (const std::exception& e) {   // KJ's own exceptions are std::exceptions too
    return detail::faultStatus(context, e.what());
  } catch (const kj::Exception& e) {    // one thrown without KJ's std::exception wrapper
    return detail::faultStatus(context, kj::str(e).cStr());
  }
}

}  // namespace aa
