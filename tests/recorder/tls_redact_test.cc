// HttpRedactor: secret header values masked in place, same length, across chunks.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "recorder/redact.h"

namespace aa {
namespace {

// Runs `chunks` through one redactor as consecutive pieces of a stream.
std::string redact(const std::vector<std::string>& chunks) {
  HttpRedactor r;
  std::string out;
  for (std::string c : chunks) {
    r.process(reinterpret_cast<uint8_t*>(c.data()), c.size());
    out += c;
  }
  return out;
}

std::string redact(const std::string& s) { return redact(std::vector<std::string>{s}); }

TEST(TlsRedact, MasksAuthorizationSameLength) {
  const std::string in =
      "POST /v1/messages HTTP/1.1\r\nHost: api.example.com\r\n"
      "Authorization: Bearer sk-secret-123\r\nContent-Type: application/json\r\n\r\n{}";
  const std::string out = redact(in);
  EXPECT_EQ(out.size(), in.size());
  EXPECT_NE(out.find("Authorization: ********************\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("sk-secret"), std::string::npos);
  EXPECT_NE(out.find("Host: api.example.com\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n{}"));
}

TEST(TlsRedact, HeaderNamesAnyCase) {
  const std::string out = redact(
      "GET / HTTP/1.1\r\nAUTHORIZATION: a1\r\nx-API-key: k2\r\ncookie: c3=v\r\n"
      "Proxy-Authorization: Basic p4\r\nApi-Key: k5\r\nX-Auth-Token: t6\r\n"
      "Accept: */*\r\n\r\n");
  for (const char* secret : {"a1", "k2", "c3=v", "p4", "k5", "t6"})
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in " << out;
  EXPECT_NE(out.find("Accept: */*"), std::string::npos);
  EXPECT_NE(out.find("x-API-key: **\r\n"), std::string::npos);
}

TEST(TlsRedact, ResponseSetCookie) {
  const std::string out = redact(
      "HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; HttpOnly\r\nContent-Length: 2\r\n\r\nok");
  const std::string masked = "Set-Cookie: " + std::string(std::strlen("session=abc; HttpOnly"), '*');
  EXPECT_NE(out.find(masked + "\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nok"));
}

TEST(TlsRedact, EverySplitPointGivesTheSameResult) {
  const std::string in =
      "GET /a HTTP/1.1\r\nAuthorization: Bearer tok\r\nX-Api-Key:  key\r\n\r\n"
      "GET /b HTTP/1.1\r\nCookie: c=1\r\n\r\n";
  const std::string whole = redact(in);
  EXPECT_EQ(whole.find("tok"), std::string::npos);
  EXPECT_EQ(whole.find("key\r"), std::string::npos);
  EXPECT_EQ(whole.find("c=1"), std::string::npos);
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    EXPECT_EQ(redact({in.substr(0, cut), in.substr(cut)}), whole) << "split at " << cut;
  }
  // byte by byte
  std::vector<std::string> bytes;
  for (char c : in) bytes.emplace_back(1, c);
  EXPECT_EQ(redact(bytes), whole);
}

TEST(TlsRedact, BodyIsNotHeaders) {
  const std::string in =
      "POST /x HTTP/1.1\r\nContent-Length: 30\r\n\r\n"
      "Cookie: not-a-header\nline two\n";
  EXPECT_EQ(redact(in), in);
}

TEST(TlsRedact, NextMessageAfterBodyIsRedacted) {
  // keep-alive: a body without a final newline, then the next request line
  const std::string out = redact(
      "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyPOST /y HTTP/1.1\r\n"
      "Authorization: s3cret\r\n\r\n");
  EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;
  EXPECT_NE(out.find("bodyPOST /y HTTP/1.1\r\n"), std::string::npos);
}

TEST(TlsRedact, StartsMidStreamLeniently) {
  const std::string out = redact("ization-ignored\r\nCookie: x=y\r\n\r\n");
  EXPECT_EQ(out.find("x=y"), std::string::npos);
}

TEST(TlsRedact, FoldedContinuationOfSecret) {
  const std::string out =
      redact("GET / HTTP/1.1\r\nAuthorization: part1\r\n  part2\r\nAccept: x\r\n\r\n");
  EXPECT_EQ(out.find("part1"), std::string::npos);
  EXPECT_EQ(out.find("part2"), std::string::npos);
  EXPECT_NE(out.find("Accept: x"), std::string::npos);
}

TEST(TlsRedact, ProcessReportsMaskedBytes) {
  HttpRedactor r;
  std::string s = "GET / HTTP/1.1\r\nCookie: abcd\r\n\r\n";
  EXPECT_EQ(r.process(reinterpret_cast<uint8_t*>(s.data()), s.size()), 4u);
}

TEST(TlsRedact, SecretHeaderNames) {
  for (const char* n : {"Authorization", "proxy-authorization", "Cookie", "SET-COOKIE",
                        "x-api-key", "api-key", "X-Goog-Api-Key", "x-amz-security-token",
                        "Private-Token", "X-Client-Secret", "x-session-id"})
    EXPECT_TRUE(isSecretHeader(n)) << n;
  for (const char* n : {"Host", "Content-Type", "Content-Length", "Accept", "User-Agent",
                        "anthropic-version", "x-request-id"})
    EXPECT_FALSE(isSecretHeader(n)) << n;
}

TEST(TlsRedact, BinaryGarbageDoesNotCrashAndKeepsLength) {
  std::string s;
  for (int i = 0; i < 4096; ++i) s.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  const std::string out = redact(s);
  EXPECT_EQ(out.size(), s.size());
}

}  // namespace
}  // namespace aa
