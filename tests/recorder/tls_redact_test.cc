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


// ---- HTTP/2 ----

TEST(TlsRedactH2, HuffmanDecodesCanonicalCodes) {
  // "www.example.com" from RFC 7541 C.4.1
  const std::string enc = "\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff";
  EXPECT_EQ(hpackHuffmanDecode(enc).value_or("<fail>"), "www.example.com");
  // "no-cache" from C.4.2
  EXPECT_EQ(hpackHuffmanDecode("\xa8\xeb\x10\x64\x9c\xbf").value_or("<fail>"), "no-cache");
  // custom-key / custom-value from C.4.3
  EXPECT_EQ(hpackHuffmanDecode("\x25\xa8\x49\xe9\x5b\xa9\x7d\x7f").value_or("<fail>"), "custom-key");
  EXPECT_EQ(hpackHuffmanDecode("\x25\xa8\x49\xe9\x5b\xb8\xe8\xb4\xbf").value_or("<fail>"),
            "custom-value");
  EXPECT_FALSE(hpackHuffmanDecode(std::string(1, '\0')).has_value());  // zero padding
}

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(payload.size() >> 16));
  f.push_back(static_cast<char>(payload.size() >> 8));
  f.push_back(static_cast<char>(payload.size()));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int k = 3; k >= 0; --k) f.push_back(static_cast<char>(stream >> (8 * k)));
  return f + payload;
}

// HPACK string literal with a 7-bit length prefix (< 127 octets here).
std::string str(const std::string& s, bool huffman = false) {
  return std::string(1, static_cast<char>((huffman ? 0x80 : 0) | s.size())) + s;
}

TEST(TlsRedactH2, LiteralFieldsByStaticAndLiteralName) {
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  std::string block;
  block += "\x82";                                        // :method GET (indexed)
  block += std::string("\x04") + str("/v1/messages");     // :path, without indexing
  block += std::string("\x1f\x08") + str("Bearer sk-h2-secret");  // authorization (23), never indexed
  block += std::string("\x40") + str("x-api-key") + str("key-literal");  // new name, indexed
  block += std::string("\x00") + str("anthropic-version") + str("2023-06-01");
  block += "\xbe";                                        // dynamic index 62: x-api-key
  const std::string settings = frame(0x4, 0, 0, std::string(6, '\0'));
  const std::string in = preface + settings + frame(0x1, 0x4 | 0x1, 1, block) +
                         frame(0x0, 0x1, 1, "body Authorization: visible");
  const std::string out = redact(in);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out.find("sk-h2-secret"), std::string::npos);
  EXPECT_EQ(out.find("key-literal"), std::string::npos);
  EXPECT_NE(out.find(str(std::string(19, '*'))), std::string::npos);
  EXPECT_NE(out.find("/v1/messages"), std::string::npos);
  EXPECT_NE(out.find("2023-06-01"), std::string::npos);
  EXPECT_NE(out.find("body Authorization: visible"), std::string::npos);  // DATA untouched
  for (size_t cut = 0; cut <= in.size(); ++cut)
    EXPECT_EQ(redact({in.substr(0, cut), in.substr(cut)}), out) << "split at " << cut;
}

TEST(TlsRedactH2, HuffmanNamesAndContinuation) {
  // response direction: starts with a frame, no preface
  std::string block;
  // set-cookie (55) with incremental indexing, value Huffman-coded "custom-value"
  block += std::string("\x7f\x18") + str("\x25\xa8\x49\xe9\x5b\xb8\xe8\xb4\xbf", true);
  // literal name "custom-key" (Huffman) that is not secret, raw value
  block += std::string("\x00") + str("\x25\xa8\x49\xe9\x5b\xa9\x7d\x7f", true) + str("visible");
  const std::string first = block.substr(0, 5), rest = block.substr(5);
  const std::string in = frame(0x4, 0, 0, "") + frame(0x1, 0x0, 1, first) +
                         frame(0x9, 0x4, 1, rest);
  const std::string out = redact(in);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out.find("\xb8\xe8\xb4\xbf"), std::string::npos);
  EXPECT_NE(out.find("visible"), std::string::npos);
  // the rewritten value still decodes, to as many characters as "custom-value"
  // value octets: 2 in the HEADERS frame, 7 after the CONTINUATION frame header
  const size_t at = out.find("\x7f\x18") + 3;
  auto decoded = hpackHuffmanDecode(out.substr(at, 2) + out.substr(at + 2 + 9, 7));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->size(), std::string("custom-value").size());
  EXPECT_EQ(decoded->find_first_not_of("*0<"), std::string::npos) << *decoded;
}

TEST(TlsRedactH2, UnknownDynamicNameIsMasked) {
  // index 62 with an empty dynamic table: the name cannot be known
  const std::string block = std::string("\x0f\x2f") + str("maybe-secret");
  const std::string out = redact(frame(0x1, 0x4, 1, block));
  EXPECT_EQ(out.find("maybe-secret"), std::string::npos);
}

TEST(TlsRedactH2, GapMasksTheRest) {
  HttpRedactor r;
  std::string a = frame(0x4, 0, 0, "");
  r.process(reinterpret_cast<uint8_t*>(a.data()), a.size());
  EXPECT_TRUE(r.http2());
  r.reset();
  std::string b = "anything at all";
  r.process(reinterpret_cast<uint8_t*>(b.data()), b.size());
  EXPECT_EQ(b, std::string(b.size(), '*'));
}

}  // namespace
}  // namespace aa
