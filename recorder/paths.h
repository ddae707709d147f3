// Path helpers for the decoder: kernel-walked paths (bpf/events.h: components from the
// leaf up, each NUL-terminated) to absolute paths, and lexical resolution of a user
// path string against a base directory.
#pragma once

#include <string>
#include <string_view>

namespace aa {

// "c\0b\0a\0" -> "/a/b/c"; an empty walk is "/".
std::string walkedToPath(std::string_view walked);
// A walk the kernel cut at its bound: "c\0b\0a\0" -> "a/b/c", relative, because the
// directories above "a" are unknown. Never made absolute: that would name another file.
std::string walkedTail(std::string_view walked);

// Collapses "//", "." and ".." of an absolute path ("/.." is "/"). Lexical: a ".."
// after a symlink is taken textually, as the shell's `cd` does.
std::string normalizePath(std::string_view absolute);

// The user string `path` resolved against directory `base` (absolute, or a relative
// walkedTail). An absolute `path` ignores `base`; an empty `base` leaves a relative
// `path` as given (the directory was unknown). Against a relative tail the result stays
// relative, and a ".." above the tail's top is kept as "..", since what it names is
// unknown.
std::string resolvePath(std::string_view path, std::string_view base);

}  // namespace aa
