// The one UTF-8 rule of every reader (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF). The JSON writers, the text renderer and the traffic layer
// decide "is this text" with it, so they agree on the same bytes.
#pragma once

#include <cstddef>
#include <string_view>

namespace aa {

// Length of the UTF-8 sequence starting at s[i] (1 for ASCII), or 0 when the bytes there
// are not a valid sequence.
size_t utf8SeqLen(std::string_view s, size_t i);
bool isValidUtf8(std::string_view s);

}  // namespace aa
