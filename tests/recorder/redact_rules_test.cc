// Redaction beyond HTTP headers (issue 12): URL query keys, form and JSON body fields,
// unlisted and malformed header names, HTTP/2 :path and DATA, command lines; one rule
// list a user extends. Every mask keeps the length.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "recorder/redact.h"

namespace aa {
namespace {

std::string redact(const std::vector<std::string>& chunks, const RedactRules* rules = nullptr) {
  HttpRedactor r(rules);
  std::string out;
  for (std::string c : chunks) {
    r.process(reinterpret_cast<uint8_t*>(c.data()), c.size());
    out += c;
  }
  return out;
}

std::string redact(const std::string& s, const RedactRules* rules = nullptr) {
  return redact(std::vector<std::string>{s}, rules);
}

// Every split point gives the same result as one piece.
void expectSplitInvariant(const std::string& in) {
  const std::string whole = redact(in);
  for (size_t cut = 0; cut <= in.size(); ++cut)
    ASSERT_EQ(redact({in.substr(0, cut), in.substr(cut)}), whole) << "split at " << cut;
}

TEST(Redact, UrlQueryKeysInTheRequestLine) {
  const std::string in =
      "GET /v1beta/models/gemini:generateContent?alt=sse&key=AIzaSECRET1&access_token=ya29SECRET2"
      "&api_key=SECRET3#frag HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string out = redact(in);
  ASSERT_EQ(out.size(), in.size());
  for (const char* s : {"AIzaSECRET1", "ya29SECRET2", "SECRET3"})
    EXPECT_EQ(out.find(s), std::string::npos) << s << " in " << out;
  EXPECT_NE(out.find("?alt=sse&key=***********&access_token=***********&api_key=*******#frag HTTP/1.1"),
            std::string::npos) << out;
  expectSplitInvariant(in);
}

TEST(Redact, QueryInOtherHeaderLinesAndInBodies) {
  const std::string in =
      "HTTP/1.1 302 Found\r\nLocation: https://app/cb?code=1&token=SECRET4\r\n"
      "Content-Length: 10\r\n\r\n<a href=\"/x?sig=SECRET5\">";
  const std::string out = redact(in);
  EXPECT_EQ(out.find("SECRET4"), std::string::npos) << out;
  EXPECT_EQ(out.find("SECRET5"), std::string::npos) << out;
  EXPECT_NE(out.find("?code=1&token=*******\r\n"), std::string::npos) << out;
}

TEST(Redact, JsonBodyFields) {
  const std::string in =
      "POST /v1/things HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
      "{\"model\": \"m\", \"api_key\" : \"sk-SECRET6\", \"nested\": {\"clientSecret\":\"a\\\"SECRET7\"},"
      " \"max_tokens\": 1024, \"text\": \"the api_key is public\", \"password\": 12}";
  const std::string out = redact(in);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out.find("SECRET6"), std::string::npos) << out;
  EXPECT_EQ(out.find("SECRET7"), std::string::npos) << out;
  EXPECT_NE(out.find("\"api_key\" : \"**********\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"max_tokens\": 1024"), std::string::npos) << out;
  EXPECT_NE(out.find("\"the api_key is public\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"model\": \"m\""), std::string::npos) << out;
  expectSplitInvariant(in);
}

TEST(Redact, JsonInsideAJsonString) {
  // tool-call arguments are JSON encoded as a string
  const std::string in =
      "{\"type\": \"function\", \"arguments\": \"{\\\"api_key\\\": \\\"SECRETN\\\", "
      "\\\"q\\\": \\\"weather\\\"}\"}";
  HttpRedactor r;
  std::string body = "POST / HTTP/1.1\r\n\r\n" + in;
  r.process(reinterpret_cast<uint8_t*>(body.data()), body.size());
  EXPECT_EQ(body.find("SECRETN"), std::string::npos) << body;
  EXPECT_NE(body.find("weather"), std::string::npos) << body;
  EXPECT_NE(body.find("\"type\": \"function\""), std::string::npos) << body;
}

TEST(Redact, FormBody) {
  const std::string in =
      "POST /oauth/token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
      "grant_type=refresh_token&refresh_token=SECRET8&client_secret=SECRET9";
  const std::string out = redact(in);
  EXPECT_EQ(out.find("SECRET8"), std::string::npos) << out;
  EXPECT_EQ(out.find("SECRET9"), std::string::npos) << out;
  EXPECT_NE(out.find("grant_type=refresh_token&"), std::string::npos) << out;
}

TEST(Redact, UnlistedAndMalformedHeaderNames) {
  const std::string in =
      "GET / HTTP/1.1\r\nX-Auth-Token: SECRETA\r\nAuthentication: SECRETB\r\n"
      "Authorization : Bearer SECRETC\r\nAuthorization\t:Basic SECRETD\r\n"
      "X-Goog-Api-Key: SECRETE\r\nHost: example.com\r\n\r\n";
  const std::string out = redact(in);
  ASSERT_EQ(out.size(), in.size());
  for (const char* s : {"SECRETA", "SECRETB", "SECRETC", "SECRETD", "SECRETE"})
    EXPECT_EQ(out.find(s), std::string::npos) << s << " in " << out;
  EXPECT_NE(out.find("Authorization : **************\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Host: example.com\r\n"), std::string::npos);
  expectSplitInvariant(in);
}

TEST(Redact, RulesAreExtensibleAndDescribed) {
  RedactRules rules;
  EXPECT_FALSE(rules.secretHeader("X-Company-Id"));
  EXPECT_FALSE(rules.secretKey("tenant"));
  rules.addHeader("X-Company-Id");
  rules.addKey("tenant");
  EXPECT_TRUE(rules.secretHeader("x-company-id"));
  EXPECT_TRUE(rules.secretKey("Tenant"));
  const std::string in =
      "GET /a?tenant=SECRETF HTTP/1.1\r\nX-Company-Id: SECRETG\r\n\r\n{\"tenant\": \"SECRETH\"}";
  const std::string out = redact(in, &rules);
  for (const char* s : {"SECRETF", "SECRETG", "SECRETH"})
    EXPECT_EQ(out.find(s), std::string::npos) << s << " in " << out;
  EXPECT_NE(redact(in).find("SECRETF"), std::string::npos) << "the built-in list is unchanged";
  auto d = rules.describe();
  EXPECT_NE(std::find(d.begin(), d.end(), "header:x-company-id"), d.end());
  EXPECT_NE(std::find(d.begin(), d.end(), "key:tenant"), d.end());
  EXPECT_NE(std::find(d.begin(), d.end(), "header:authorization"), d.end());
}

TEST(Redact, KeysAndHeadersThatAreNotSecret) {
  const RedactRules& r = RedactRules::builtin();
  for (const char* k : {"max_tokens", "model", "alt", "stream", "input_tokens", "beta"})
    EXPECT_FALSE(r.secretKey(k)) << k;
  for (const char* k : {"key", "api_key", "apiKey", "access_token", "GITHUB_TOKEN",
                        "AWS_SECRET_ACCESS_KEY", "X-Amz-Signature", "client_secret", "password"})
    EXPECT_TRUE(r.secretKey(k)) << k;
  for (const char* h : {":authority", "WWW-Authenticate", "Host", "anthropic-version"})
    EXPECT_FALSE(r.secretHeader(h)) << h;
}

// ---- HTTP/2 ----

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

std::string str(const std::string& s, bool huffman = false) {
  return std::string(1, static_cast<char>((huffman ? 0x80 : 0) | s.size())) + s;
}

// HPACK Huffman encoding of printable ASCII (RFC 7541 Appendix B, canonical: the
// symbols of each code length, in order).
std::string huffman(const std::string& text) {
  static const std::array<std::pair<int, std::string>, 10> kLengths = {{
      {5, "012aceiost"}, {6, " %-./3456789=A_bdfghlmnpru"},
      {7, ":BCDEFGHIJKLMNOPQRSTUVWYjkqvwxyz"}, {8, "&*,;XZ"}, {10, "!\"()?"}, {11, "'+|"},
      {12, "#>"}, {13, std::string("\0$@[]~", 6)}, {14, "^}"}, {15, "<`{"}}};
  std::string out;
  uint64_t acc = 0;
  int have = 0;
  for (char ch : text) {
    uint32_t code = 0;
    int bits = 5, prev = 5;
    bool found = false;
    for (const auto& [len, syms] : kLengths) {
      code <<= (len - prev);
      prev = len;
      size_t at = syms.find(ch);
      if (at != std::string::npos) {
        code += uint32_t(at);
        bits = len;
        found = true;
        break;
      }
      code += uint32_t(syms.size());
    }
    EXPECT_TRUE(found) << ch;
    acc = (acc << bits) | code;
    have += bits;
    while (have >= 8) {
      out.push_back(static_cast<char>((acc >> (have - 8)) & 0xff));
      have -= 8;
    }
  }
  if (have > 0) out.push_back(static_cast<char>(((acc << (8 - have)) | ((1u << (8 - have)) - 1)) & 0xff));
  return out;
}

TEST(RedactH2, HuffmanEncoderMatchesTheDecoder) {
  EXPECT_EQ(hpackHuffmanDecode(huffman("/v1/x?key=abc")).value_or("<fail>"), "/v1/x?key=abc");
}

TEST(RedactH2, LiteralPathQueryAndDataFrames) {
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  std::string block = "\x83";   // :method POST
  block += std::string("\x04") + str("/v1/models/g:generate?key=SECRETI&alt=sse");
  const std::string body1 = "{\"api_key\": \"SECR";
  const std::string body2 = "ETJ\", \"prompt\": \"hello\"}";
  const std::string in = preface + frame(0x1, 0x4, 1, block) + frame(0x0, 0x0, 1, body1) +
                         frame(0x0, 0x8, 3, std::string("\x02") + "token=x" + std::string(2, '\0')) +
                         frame(0x0, 0x1, 1, body2);
  const std::string out = redact(in);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out.find("SECRETI"), std::string::npos) << out;
  EXPECT_EQ(out.find("SECR\""), std::string::npos);
  EXPECT_EQ(out.find("ETJ"), std::string::npos) << "a JSON value split across DATA frames";
  EXPECT_NE(out.find("?key=*******&alt=sse"), std::string::npos) << out;
  EXPECT_NE(out.find("\"prompt\": \"hello\""), std::string::npos);
  EXPECT_NE(out.find("token=*"), std::string::npos) << "padded DATA of another stream";
  expectSplitInvariant(in);
}

TEST(RedactH2, HuffmanPathWithSecretIsMaskedAndStillDecodes) {
  const std::string secretPath = "/v1beta/models/g:streamGenerateContent?key=AIzaSECRETK";
  const std::string plainPath = "/v1/messages?beta=true";
  std::string block = "\x83";
  block += std::string("\x44") + str(huffman(secretPath), true);   // :path (4), incremental
  block += std::string("\x04") + str(huffman(plainPath), true);    // :path, without indexing
  const std::string in = frame(0x1, 0x4 | 0x1, 1, block);
  const std::string out = redact(in);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(out.find(huffman(secretPath)), std::string::npos) << "secret :path kept";
  EXPECT_NE(out.find(huffman(plainPath)), std::string::npos) << "a plain :path was changed";
  // the masked value decodes, to as many characters (the peer's table size is kept)
  const size_t at = 9 + 1 + 1 + 1;
  auto decoded = hpackHuffmanDecode(out.substr(at, huffman(secretPath).size()));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->size(), secretPath.size());
  EXPECT_EQ(decoded->find("SECRET"), std::string::npos);
}

// ---- command lines ----

std::vector<std::string> redacted(std::vector<std::string> argv) {
  redactArgv(argv, RedactRules::builtin());
  return argv;
}

TEST(RedactArgv, CurlOptions) {
  const std::vector<std::string> in = {
      "curl", "-H", "Authorization: Bearer sk-SECRET1", "-u", "alice:SECRET2", "-b", "sid=SECRET3",
      "--header=X-Api-Key: SECRET4", "-HCookie: a=SECRET5", "-ubob:SECRET6", "--oauth2-bearer",
      "SECRET7", "-b", "cookies.txt", "-H", "Accept: text/plain",
      "https://carol:SECRET8@api.example.com/v1?key=SECRET9&alt=json", "-d",
      "{\"api_key\": \"SECRETA\"}", "--token=SECRETB", "--api-key", "SECRETC", "--no-password",
      "db"};
  const auto out = redacted(in);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].size(), in[i].size()) << i;
    EXPECT_EQ(out[i].find("SECRET"), std::string::npos) << "argv[" << i << "] = " << out[i];
  }
  EXPECT_EQ(out[2], "Authorization: " + std::string(17, '*'));
  EXPECT_EQ(out[4], "alice:*******");
  EXPECT_EQ(out[13], "cookies.txt");
  EXPECT_EQ(out[15], "Accept: text/plain");
  EXPECT_EQ(out[16], "https://carol:*******@api.example.com/v1?key=*******&alt=json");
  EXPECT_EQ(out[22], "--no-password");
  EXPECT_EQ(out[23], "db");
  EXPECT_EQ(out[0], "curl");
}

TEST(RedactArgv, ShellCommandStrings) {
  const std::vector<std::string> in = {
      "/bin/sh", "-c",
      "curl -sS -H 'Authorization: Bearer sk-SECRET1' -u \"u:SECRET2\" -b sid=SECRET3 "
      "'https://h/x?access_token=SECRET4' && OPENAI_API_KEY=SECRET5 python3 agent.py "
      "--password SECRET6; echo done"};
  const auto out = redacted(in);
  EXPECT_EQ(out[2].size(), in[2].size());
  EXPECT_EQ(out[2].find("SECRET"), std::string::npos) << out[2];
  EXPECT_NE(out[2].find("curl -sS -H 'Authorization: "), std::string::npos) << out[2];
  EXPECT_NE(out[2].find("python3 agent.py"), std::string::npos) << out[2];
  EXPECT_NE(out[2].find("; echo done"), std::string::npos) << out[2];
}

TEST(RedactArgv, EnvAssignmentsAndPlainArgumentsKept) {
  const auto out = redacted({"env", "GITHUB_TOKEN=SECRET1", "PATH=/usr/bin", "ls", "-la",
                             "key.txt", "--model", "gpt"});
  EXPECT_EQ(out[1], "GITHUB_TOKEN=" + std::string(7, '*'));
  EXPECT_EQ(out[2], "PATH=/usr/bin");
  EXPECT_EQ(out[5], "key.txt");
  EXPECT_EQ(out[7], "gpt");
}

}  // namespace
}  // namespace aa
