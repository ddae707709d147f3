// The loopback HTTP/1.1 server of `aa-session serve`: accepts connections on
// 127.0.0.1 (plain or TLS with OpenSSL), reads requests (Content-Length or chunked
// bodies, Expect: 100-continue, keep-alive, gzip/deflate request bodies), asks the
// ReplayPlan for the answer and sends it back in the recorded pieces, optionally at the
// recorded pace. One thread per connection (finished ones joined as new ones come);
// run() returns when stopFd becomes readable.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/serve/replay_plan.h"
#include "store/status.h"

namespace aa::serve {

struct ServerOptions {
  uint16_t port = 0;          // 0: the kernel picks one
  bool tls = false;
  std::string certFile, keyFile;   // PEM, for tls (chain first)
  double speed = 0;           // 0: no pacing; 1: recorded timing; 2: twice as fast
  bool untilDone = false;     // stop once every recorded exchange has been served
};

// One line per request, "request 3: POST /v1/messages -> llm call 2 (200)", and the
// divergence message when there is one.
using RequestLog = std::function<void(const std::string& line, const Divergence* divergence)>;

class MockServer {
 public:
  static StatusOr<std::unique_ptr<MockServer>> listen(ReplayPlan& plan, ServerOptions options,
                                                      RequestLog log);
  ~MockServer();
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  uint16_t port() const;
  // Serves until stopFd is readable (or, with untilDone, every entry was served); then
  // closes every connection and joins their threads.
  Status run(int stopFd);

  class Impl;

 private:
  explicit MockServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aa::serve
