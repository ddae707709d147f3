#include "store/linux_abi.h"

#include <array>
#include <cstdio>
#include <utility>

namespace aa::linux_abi {
namespace {

struct Bit {
  uint32_t bits;
  std::string_view name;
};

// Octal as in asm-generic/fcntl.h. O_SYNC and O_TMPFILE are two bits each (with O_DSYNC
// and O_DIRECTORY): listed before their parts so the whole name is used first.
constexpr Bit kOpenBits[] = {
    {04010000, "O_SYNC"},    {020200000, "O_TMPFILE"}, {0100, "O_CREAT"},
    {0200, "O_EXCL"},        {0400, "O_NOCTTY"},       {01000, "O_TRUNC"},
    {02000, "O_APPEND"},     {04000, "O_NONBLOCK"},    {010000, "O_DSYNC"},
    {020000, "O_ASYNC"},     {040000, "O_DIRECT"},     {0100000, "O_LARGEFILE"},
    {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"}, {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"}, {010000000, "O_PATH"},
};

// asm-generic/errno-base.h and asm-generic/errno.h, indexed by number.
constexpr std::array<std::string_view, 134> kErrno = [] {
  std::array<std::string_view, 134> t{};
  const std::pair<int, std::string_view> names[] = {
      {1, "EPERM"},          {2, "ENOENT"},         {3, "ESRCH"},          {4, "EINTR"},
      {5, "EIO"},            {6, "ENXIO"},          {7, "E2BIG"},          {8, "ENOEXEC"},
      {9, "EBADF"},          {10, "ECHILD"},        {11, "EAGAIN"},        {12, "ENOMEM"},
      {13, "EACCES"},        {14, "EFAULT"},        {15, "ENOTBLK"},       {16, "EBUSY"},
      {17, "EEXIST"},        {18, "EXDEV"},         {19, "ENODEV"},        {20, "ENOTDIR"},
      {21, "EISDIR"},        {22, "EINVAL"},        {23, "ENFILE"},        {24, "EMFILE"},
      {25, "ENOTTY"},        {26, "ETXTBSY"},       {27, "EFBIG"},         {28, "ENOSPC"},
      {29, "ESPIPE"},        {30, "EROFS"},         {31, "EMLINK"},        {32, "EPIPE"},
      {33, "EDOM"},          {34, "ERANGE"},        {35, "EDEADLK"},       {36, "ENAMETOOLONG"},
      {37, "ENOLCK"},        {38, "ENOSYS"},        {39, "ENOTEMPTY"},     {40, "ELOOP"},
      {42, "ENOMSG"},        {61, "ENODATA"},       {62, "ETIME"},         {71, "EPROTO"},
      {74, "EBADMSG"},       {75, "EOVERFLOW"},     {84, "EILSEQ"},        {88, "ENOTSOCK"},
      {89, "EDESTADDRREQ"},  {90, "EMSGSIZE"},      {91, "EPROTOTYPE"},    {92, "ENOPROTOOPT"},
      {93, "EPROTONOSUPPORT"}, {94, "ESOCKTNOSUPPORT"}, {95, "EOPNOTSUPP"}, {96, "EPFNOSUPPORT"},
      {97, "EAFNOSUPPORT"},  {98, "EADDRINUSE"},    {99, "EADDRNOTAVAIL"}, {100, "ENETDOWN"},
      {101, "ENETUNREACH"},  {102, "ENETRESET"},    {103, "ECONNABORTED"}, {104, "ECONNRESET"},
      {105, "ENOBUFS"},      {106, "EISCONN"},      {107, "ENOTCONN"},     {108, "ESHUTDOWN"},
      {109, "ETOOMANYREFS"}, {110, "ETIMEDOUT"},    {111, "ECONNREFUSED"}, {112, "EHOSTDOWN"},
      {113, "EHOSTUNREACH"}, {114, "EALREADY"},     {115, "EINPROGRESS"},  {116, "ESTALE"},
      {122, "EDQUOT"},       {125, "ECANCELED"},    {130, "EOWNERDEAD"},   {133, "EHWPOISON"},
  };
  for (const auto& [n, name] : names) t[n] = name;
  return t;
}();

// asm-generic/signal.h (x86-64 and arm64 alike).
constexpr std::string_view kSignals[] = {
    "",        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",
    "SIGBUS",  "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV",   "SIGUSR2", "SIGPIPE",
    "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",
    "SIGTTIN", "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ",   "SIGVTALRM", "SIGPROF",
    "SIGWINCH", "SIGIO",  "SIGPWR",    "SIGSYS",
};

}  // namespace

std::string openFlagsName(uint32_t flags) {
  std::string out;
  switch (flags & kO_ACCMODE) {
    case kO_RDONLY: out = "O_RDONLY"; break;
    case kO_WRONLY: out = "O_WRONLY"; break;
    case kO_RDWR: out = "O_RDWR"; break;
    default: out = "O_ACCMODE"; break;   // 3: "special" access, used by some ioctls
  }
  uint32_t rest = flags & ~kO_ACCMODE;
  for (const Bit& b : kOpenBits) {
    if ((rest & b.bits) == b.bits) {
      out += '|';
      out += b.name;
      rest &= ~b.bits;
    }
  }
  if (rest) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "|0x%x", rest);
    out += buf;
  }
  return out;
}

std::string_view errnoName(int err) {
  return err > 0 && static_cast<size_t>(err) < kErrno.size() ? kErrno[err] : std::string_view();
}

std::string_view signalName(int sig) {
  return sig > 0 && static_cast<size_t>(sig) < std::size(kSignals) ? kSignals[sig]
                                                                   : std::string_view();
}

std::string_view familyName(uint16_t family) {
  switch (family) {
    case kAF_UNIX: return "AF_UNIX";
    case kAF_INET: return "AF_INET";
    case kAF_INET6: return "AF_INET6";
    default: return {};
  }
}

}  // namespace aa::linux_abi
