// Linux ABI numbers as sessions record them (open flags, errno, signals, address
// families) and their names. Sessions are recorded on Linux and read anywhere: a reader
// on macOS must not name them with its own <fcntl.h>/<errno.h>/<signal.h> (there
// O_CREAT is 0x200 and EAGAIN is 35). Every reader names these values through here.
//
// Open flags are the x86-64 values (asm-generic/fcntl.h), the architecture the recorder
// records on; arm64 moves O_DIRECTORY, O_NOFOLLOW, O_DIRECT and O_LARGEFILE, and would
// need the session's architecture to pick its table. errno and signal numbers are the
// asm-generic ones, the same on x86-64 and arm64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aa::linux_abi {

// open(2)
constexpr uint32_t kO_ACCMODE = 03, kO_RDONLY = 0, kO_WRONLY = 01, kO_RDWR = 02;
constexpr uint32_t kO_CREAT = 0100, kO_EXCL = 0200, kO_TRUNC = 01000, kO_APPEND = 02000;
constexpr uint32_t kO_DIRECTORY = 0200000, kO_CLOEXEC = 02000000;

// Address families (net.connect `family`).
constexpr uint16_t kAF_UNIX = 1, kAF_INET = 2, kAF_INET6 = 10;

// errno values the readers test for.
constexpr int kEINPROGRESS = 115;

// "O_WRONLY|O_CREAT|O_TRUNC"; bits without a name are appended as one hex number
// ("O_RDONLY|0x40000000"). The access mode is always named.
std::string openFlagsName(uint32_t flags);
// "ENOENT", or "" for a number without a name.
std::string_view errnoName(int err);
// "SIGKILL", or "".
std::string_view signalName(int sig);
// "AF_INET", or "".
std::string_view familyName(uint16_t family);

}  // namespace aa::linux_abi
