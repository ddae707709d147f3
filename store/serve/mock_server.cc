#include "store/serve/mock_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace aa::serve {
namespace {

constexpr size_t kMaxHeaderBytes = 1 << 20;
constexpr size_t kMaxBodyBytes = 512u << 20;

std::string sslError() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

int alpnSelect(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = "\x08http/1.1";
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, kHttp11, sizeof kHttp11 - 1, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;   // go on without ALPN: we speak HTTP/1.1 only
}

// One accepted connection, plain or TLS (the fd is closed by its owner).
class Conn {
 public:
  Conn(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Conn() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
  }
  ssize_t read(char* buf, size_t n) {
    if (!ssl_) {
      ssize_t r;
      do r = ::recv(fd_, buf, n, 0);
      while (r < 0 && errno == EINTR);
      return r;
    }
    int r = SSL_read(ssl_, buf, int(std::min<size_t>(n, 1 << 30)));
    return r > 0 ? r : -1;
  }
  bool writeAll(std::string_view s) {
    while (!s.empty()) {
      ssize_t w;
      if (ssl_) {
        int r = SSL_write(ssl_, s.data(), int(std::min<size_t>(s.size(), 1 << 30)));
        w = r > 0 ? r : -1;
      } else {
        do w = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
      }
      if (w <= 0) return false;
      s.remove_prefix(size_t(w));
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_;
};

}  // namespace

class MockServer::Impl {
 public:
  ReplayPlan& plan;
  ServerOptions options;
  RequestLog log;
  int listenFd = -1;
  uint16_t port = 0;
  SSL_CTX* ctx = nullptr;
  std::mutex mu;
  struct Worker {
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  std::list<Worker> workers;   // finished ones are joined at the next accept
  std::list<int> liveFds;
  std::atomic<bool> done{false};
  int doneWake[2] = {-1, -1};

  Impl(ReplayPlan& p, ServerOptions o, RequestLog l) : plan(p), options(std::move(o)), log(std::move(l)) {}
  ~Impl() {
    if (listenFd >= 0) ::close(listenFd);
    if (ctx) SSL_CTX_free(ctx);
    for (int fd : doneWake)
      if (fd >= 0) ::close(fd);
  }

  void pace(std::chrono::steady_clock::time_point from, uint64_t delayNs) {
    if (options.speed <= 0 || delayNs == 0) return;
    auto until = from + std::chrono::nanoseconds(uint64_t(double(delayNs) / options.speed));
    std::this_thread::sleep_until(until);
  }

  bool sendResponse(Conn& c, const ReplayResponse& r, bool keepAlive,
                    std::chrono::steady_clock::time_point requestEnd) {
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason + "\r\n";
    for (const auto& h : r.headers) head += h.name + ": " + h.value + "\r\n";
    if (r.chunked) head += "Transfer-Encoding: chunked\r\n";
    else head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    if (!keepAlive) head += "Connection: close\r\n";
    head += "\r\n";
    pace(requestEnd, r.headersDelayNs);
    if (!c.writeAll(head)) return false;
    auto t0 = std::chrono::steady_clock::now();
    size_t at = 0;
    for (const auto& p : r.pieces) {
      pace(t0, p.delayNs);
      std::string_view piece(r.body.data() + at, p.end - at);
      at = p.end;
      if (r.chunked) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        if (!c.writeAll(std::string(size) + std::string(piece) + "\r\n")) return false;
      } else if (!c.writeAll(piece)) {
        return false;
      }
    }
    if (r.chunked && !r.cut && !c.writeAll("0\r\n\r\n")) return false;
    return true;
  }

  bool sendError(Conn& c, const MatchResult& m, bool keepAlive) {
    std::string out = "HTTP/1.1 " + std::to_string(m.errorStatus) +
                      (m.errorStatus == 404 ? " Not Found" : " Bad Request") +
                      "\r\nContent-Type: " + m.errorContentType +
                      "\r\nx-aa-replay: divergence\r\nContent-Length: " +
                      std::to_string(m.errorBody.size()) + "\r\n" +
                      (keepAlive ? "" : "Connection: close\r\n") + "\r\n" + m.errorBody;
    return c.writeAll(out);
  }

  void serveConnection(int fd) {
    SSL* ssl = nullptr;
    if (ctx) {
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        return;
      }
    }
    Conn c(fd, ssl);
    std::string buf;
    char tmp[65536];
    auto more = [&]() {
      ssize_t n = c.read(tmp, sizeof tmp);
      if (n <= 0) return false;
      buf.append(tmp, size_t(n));
      return true;
    };
    while (!done) {
      size_t hdrEnd;
      while ((hdrEnd = buf.find("\r\n\r\n")) == std::string::npos) {
        if (buf.size() > kMaxHeaderBytes || !more()) return;
      }
      IncomingRequest req;
      std::string_view head(buf.data(), hdrEnd);
      size_t eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
      if (sp1 == std::string_view::npos || sp2 == sp1) {
        c.writeAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
      req.method = std::string(line.substr(0, sp1));
      req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
      std::string version(line.substr(sp2 + 1));
      bool keepAlive = version == "HTTP/1.1";
      bool chunkedBody = false;
      size_t length = 0;
      std::string coding;
      bool expectContinue = false;
      for (size_t at = eol == std::string_view::npos ? head.size() : eol + 2; at < head.size();) {
        size_t e = head.find("\r\n", at);
        if (e == std::string_view::npos) e = head.size();
        std::string_view h = head.substr(at, e - at);
        at = e + 2;
        size_t colon = h.find(':');
        if (colon == std::string_view::npos) continue;
        traffic::HttpHeader hh{std::string(h.substr(0, colon)), trim(h.substr(colon + 1))};
        if (iequals(hh.name, "content-length")) length = std::strtoull(hh.value.c_str(), nullptr, 10);
        if (iequals(hh.name, "transfer-encoding") && hh.value.find("chunked") != std::string::npos)
          chunkedBody = true;
        if (iequals(hh.name, "content-encoding")) coding = hh.value;
        if (iequals(hh.name, "expect") && iequals(hh.value, "100-continue")) expectContinue = true;
        if (iequals(hh.name, "connection")) {
          if (iequals(hh.value, "close")) keepAlive = false;
          if (iequals(hh.value, "keep-alive")) keepAlive = true;
        }
        req.headers.push_back(std::move(hh));
      }
      if (length > kMaxBodyBytes) return;
      if (expectContinue && !c.writeAll("HTTP/1.1 100 Continue\r\n\r\n")) return;
      size_t pos = hdrEnd + 4;
      if (chunkedBody) {
        while (true) {
          size_t e;
          while ((e = buf.find("\r\n", pos)) == std::string::npos)
            if (buf.size() > kMaxBodyBytes || !more()) return;
          size_t n = std::strtoull(buf.c_str() + pos, nullptr, 16);
          pos = e + 2;
          if (n == 0) {
            // Trailers, then an empty line.
            while (true) {
              while ((e = buf.find("\r\n", pos)) == std::string::npos)
                if (!more()) return;
              bool empty = e == pos;
              pos = e + 2;
              if (empty) break;
            }
            break;
          }
          if (req.body.size() + n > kMaxBodyBytes) return;
          while (buf.size() < pos + n + 2)
            if (!more()) return;
          req.body.append(buf, pos, n);
          pos += n + 2;
        }
      } else {
        while (buf.size() < pos + length)
          if (!more()) return;
        req.body = buf.substr(pos, length);
        pos += length;
      }
      buf.erase(0, pos);
      if (!coding.empty() && !iequals(coding, "identity")) {
        // A body that does not decode is matched as it came.
        if (auto decoded = traffic::decodeContent(coding, req.body); decoded.ok())
          req.body = std::move(decoded).value();
      }
      auto requestEnd = std::chrono::steady_clock::now();
      MatchResult m = plan.match(req);
      if (log) {
        std::string line = req.method + " " + req.target + " -> ";
        line += m.response ? m.what + " (" + std::to_string(m.response->status) + ")"
                           : "divergence (" + std::to_string(m.errorStatus) + ")";
        log(line, m.divergence ? &*m.divergence : nullptr);
      }
      bool ok = m.response ? sendResponse(c, *m.response, keepAlive && !m.response->cut, requestEnd)
                           : sendError(c, m, keepAlive);
      if (options.untilDone && plan.served() == plan.llmCalls() + plan.otherExchanges()) {
        done = true;
        char b = 1;
        (void)!::write(doneWake[1], &b, 1);
      }
      if (!ok || !keepAlive || (m.response && m.response->cut)) return;
    }
  }
};

MockServer::MockServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockServer::~MockServer() = default;
uint16_t MockServer::port() const { return impl_->port; }

StatusOr<std::unique_ptr<MockServer>> MockServer::listen(ReplayPlan& plan, ServerOptions options,
                                                         RequestLog log) {
  auto impl = std::make_unique<Impl>(plan, std::move(options), std::move(log));
  if (::pipe2(impl->doneWake, O_CLOEXEC) != 0)
    return Status::error(std::string("pipe: ") + std::strerror(errno));
  if (impl->options.tls) {
    impl->ctx = SSL_CTX_new(TLS_server_method());
    if (!impl->ctx) return Status::error("SSL_CTX_new: " + sslError());
    SSL_CTX_set_min_proto_version(impl->ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(impl->ctx, impl->options.certFile.c_str()) != 1)
      return Status::error(impl->options.certFile + ": " + sslError());
    if (SSL_CTX_use_PrivateKey_file(impl->ctx, impl->options.keyFile.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(impl->ctx) != 1)
      return Status::error(impl->options.keyFile + ": " + sslError());
    SSL_CTX_set_alpn_select_cb(impl->ctx, alpnSelect, nullptr);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::error(std::string("socket: ") + std::strerror(errno));
  impl->listenFd = fd;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(impl->options.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   // loopback only, always
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return Status::error("127.0.0.1:" + std::to_string(impl->options.port) +
                         ": cannot listen: " + std::strerror(errno));
  if (::listen(fd, 64) != 0) return Status::error(std::string("listen: ") + std::strerror(errno));
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  impl->port = ntohs(a.sin_port);
  return std::unique_ptr<MockServer>(new MockServer(std::move(impl)));
}

Status MockServer::run(int stopFd) {
  Impl& s = *impl_;
  Status result;
  while (!s.done) {
    pollfd p[3] = {{s.listenFd, POLLIN, 0}, {stopFd, POLLIN, 0}, {s.doneWake[0], POLLIN, 0}};
    int n = ::poll(p, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = Status::error(std::string("poll: ") + std::strerror(errno));
      break;
    }
    if (p[1].revents || p[2].revents) break;
    if (p[0].revents & POLLIN) {
      int c = ::accept4(s.listenFd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      for (auto w = s.workers.begin(); w != s.workers.end();) {
        if (!w->finished) {
          ++w;
          continue;
        }
        w->thread.join();
        w = s.workers.erase(w);
      }
      std::lock_guard<std::mutex> lock(s.mu);
      s.liveFds.push_back(c);
      auto it = std::prev(s.liveFds.end());
      Impl::Worker& w = s.workers.emplace_back();
      w.thread = std::thread([&s, &w, c, it] {
        s.serveConnection(c);
        {
          std::lock_guard<std::mutex> l(s.mu);
          s.liveFds.erase(it);   // before close: run() may shut down what is listed
        }
        ::close(c);
        w.finished = true;
      });
    }
  }
  s.done = true;
  {
    // Wake connections blocked in read: their threads then close and return.
    std::lock_guard<std::mutex> lock(s.mu);
    for (int fd : s.liveFds) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& w : s.workers) w.thread.join();
  return result;
}

}  // namespace aa::serve
