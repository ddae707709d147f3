// AeadJoin: joins aws-lc AEAD contexts into TLS connections (rustls, recorder/tls_capture.cc).
//
// rustls seals and opens each TLS record with an EVP_AEAD_CTX, one per direction and
// key: a TLS 1.3 connection has four (handshake and traffic keys, each way), of which
// only the traffic contexts carry application data. The BPF side names a context by its
// address and, when known, the socket fd (a read's from the thread's last recv; a
// write's from the socket write after the seal, which may come after its first records).
//
// A context seen before keeps its connection. A new one joins the connection on its
// socket when that has no context of its direction yet, else starts a connection. The
// fd of a write context learned later makes its connection the one on that fd. A
// context re-initialised (EVP_AEAD_CTX_init at its address) is forgotten: its next
// record is placed afresh. Keys have bit 63 set, so they never collide with an SSL*
// (a user-space address) in the same per-process connection table.
//
// Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <utility>

namespace aa {

class AeadJoin {
 public:
  static constexpr int kWrite = 0, kRead = 1;
  // The connection key of a record of context `ctx` (fd -1: unknown) in direction dir.
  uint64_t key(uint32_t pid, uint64_t ctx, int32_t fd, int dir);
  // The socket of write context `ctx` became known. Returns its connection key, 0 when
  // the context has carried no record yet.
  uint64_t writeFd(uint32_t pid, uint64_t ctx, int32_t fd);
  // The context at this address starts anew.
  void reset(uint32_t pid, uint64_t ctx) { ctxs_.erase({pid, ctx}); }
  void forgetProcess(uint32_t pid);

 private:
  struct OnFd {
    uint64_t key = 0;
    std::array<bool, 2> dir{};  // a context of this direction has joined
  };
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> ctxs_;  // (pid, ctx) -> key
  std::map<std::pair<uint32_t, int32_t>, OnFd> fds_;        // (pid, fd) -> its connection
  uint64_t next_ = 1;
};

}  // namespace aa
