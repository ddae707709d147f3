// The one loopback test server (fixtures/server/server.js) as a child process of a test:
// started with --until-stdin-eof, so closing the pipe to its stdin stops it, and read
// back from its first line "PORT H2PORT CERTFILE" (and PLAINPORT after it when started
// with --plain-port). The certificate is made by the
// server with the openssl CLI in a temporary directory it removes when it exits.
// Needs `node` on PATH (Debian's nodejs is enough: no npm package is loaded for HTTPS).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/status.h"

namespace aa::test_support {

class TestServer {
 public:
  TestServer() = default;
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() { stop(); }

  // Starts `node SOURCE_DIR/fixtures/server/server.js --until-stdin-eof EXTRA...`; an
  // error (one line) when it did not print its ports.
  Status start(const std::string& sourceDir, const std::vector<std::string>& extra = {}) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return Status::error(std::string("test server: pipe: ") + std::strerror(errno));
    if (::pipe2(out, O_CLOEXEC) != 0) {
      const int err = errno;
      ::close(in[0]);
      ::close(in[1]);
      return Status::error(std::string("test server: pipe: ") + std::strerror(err));
    }
    const std::string script = sourceDir + "/fixtures/server/server.js";
    std::vector<std::string> args = {"node", script, "--until-stdin-eof"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::execvp("node", argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    std::istringstream fields(line);
    fields >> port_ >> h2Port_ >> cert_ >> plainPort_;
    if (cert_.empty()) {
      stop();
      return Status::error("node " + script + " did not start (is node installed?): '" + line + "'");
    }
    return Status();
  }

  // Closes its stdin and reaps it (SIGKILL after a second).
  void stop() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ <= 0) return;
    int st;
    for (int i = 0; i < 50 && ::waitpid(pid_, &st, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (::waitpid(pid_, &st, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
    }
    pid_ = -1;
  }

  const std::string& port() const { return port_; }      // HTTPS, HTTP/1.1
  const std::string& h2Port() const { return h2Port_; }  // HTTPS, HTTP/2 only
  const std::string& cert() const { return cert_; }      // the certificate to trust
  const std::string& plainPort() const { return plainPort_; }  // plain HTTP (--plain-port)
  std::string url(const std::string& path) const { return "https://127.0.0.1:" + port_ + path; }
  std::string h2Url(const std::string& path) const { return "https://127.0.0.1:" + h2Port_ + path; }
  std::string plainUrl(const std::string& path) const { return "http://127.0.0.1:" + plainPort_ + path; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string port_, h2Port_, cert_, plainPort_;
};

}  // namespace aa::test_support
