#include <gtest/gtest.h>

#include "store/traffic/http.h"
#include "tests/traffic/test_util.h"

namespace aa::traffic {
namespace {

using testing::chunked;
using testing::gzipOf;
using testing::recordsOf;
using testing::streamOf;

const std::string kReq =
    "POST /v1/messages HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n"
    "Content-Length: 13\r\n\r\n{\"model\":\"m\"}";
const std::string kResp =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";

TEST(Http1, RequestAndResponsePaired) {
  ByteStream w = streamOf(kReq, Direction::kWrite);
  ByteStream r = streamOf(kResp, Direction::kRead, {}, 5000);
  auto xs = parseHttp1Connection(&w, &r);
  ASSERT_EQ(xs.size(), 1u);
  const auto& x = xs[0];
  EXPECT_EQ(x.method(), "POST");
  EXPECT_EQ(x.path(), "/v1/messages");
  EXPECT_EQ(x.host(), "api.example.com");
  EXPECT_EQ(x.status(), 200);
  EXPECT_EQ(x.request->body, "{\"model\":\"m\"}");
  EXPECT_EQ(x.response->body, "{\"ok\":true}");
  EXPECT_EQ(x.response->reason, "OK");
  EXPECT_TRUE(x.complete());
  EXPECT_EQ(x.tStartNs(), 1000u);
  EXPECT_EQ(x.tEndNs(), 5000u);
  EXPECT_EQ(x.pid, 42u);
  EXPECT_EQ(x.comm, "agent");
  EXPECT_EQ(x.protocol, "http/1.1");
  EXPECT_FALSE(x.serverSide);
}

// Every way of cutting the request into two or three records gives the same message.
TEST(Http1, SplitAtEveryByteBoundary) {
  for (size_t a = 1; a < kReq.size(); ++a) {
    for (size_t b : {size_t(1), size_t(7), kReq.size()}) {
      ByteStream w = streamOf(kReq, Direction::kWrite, {a, b});
      auto msgs = parseHttp1Stream(w);
      ASSERT_EQ(msgs.size(), 1u) << a;
      EXPECT_TRUE(msgs[0].complete) << a << ": " << msgs[0].problem;
      EXPECT_EQ(msgs[0].body, "{\"model\":\"m\"}") << a;
      EXPECT_EQ(msgs[0].headers.size(), 3u);
      EXPECT_EQ(msgs[0].endOffset, kReq.size());
    }
  }
}

TEST(Http1, OneByteRecordsTimeTheBody) {
  std::vector<size_t> ones(kResp.size(), 1);
  ByteStream r = streamOf(kResp, Direction::kRead, ones, 0);
  auto msgs = parseHttp1Stream(r);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(msgs[0].complete);
  EXPECT_EQ(msgs[0].tStartNs, 0u);
  EXPECT_EQ(msgs[0].tEndNs, 10 * (kResp.size() - 1));
  size_t bodyStart = kResp.size() - 11;
  EXPECT_EQ(msgs[0].timeAtBody(1), 10 * bodyStart);
  EXPECT_EQ(msgs[0].timeAtBody(11), 10 * (kResp.size() - 1));
}

TEST(Http1, KeepAliveManyExchangesInOrder) {
  std::string reqs, resps;
  for (int i = 0; i < 5; ++i) {
    std::string body = "req" + std::to_string(i);
    reqs += "POST /x/" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
    std::string rb = "resp" + std::to_string(i);
    if (i % 2) {
      resps += "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(rb, 2);
    } else {
      resps += "HTTP/1.1 201 Created\r\nContent-Length: " + std::to_string(rb.size()) + "\r\n\r\n" + rb;
    }
  }
  ByteStream w = streamOf(reqs, Direction::kWrite, {5, 17, 33, 2});
  ByteStream r = streamOf(resps, Direction::kRead, {9, 1, 1, 40});
  auto xs = parseHttp1Connection(&w, &r);
  ASSERT_EQ(xs.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(xs[i].path(), "/x/" + std::to_string(i));
    EXPECT_EQ(xs[i].request->body, "req" + std::to_string(i));
    EXPECT_EQ(xs[i].response->body, "resp" + std::to_string(i));
    EXPECT_EQ(xs[i].status(), i % 2 ? 200 : 201);
    EXPECT_EQ(xs[i].response->chunked, i % 2 == 1);
    EXPECT_TRUE(xs[i].complete()) << i;
  }
}

TEST(Http1, ChunkedGzipBodyIsDecoded) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + " of a compressible body\n";
  std::string gz = gzipOf(text);
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
                     "X-Trailer-Next: 1\r\n\r\n" + chunked(gz, 100);
  for (size_t split : {size_t(1), size_t(13), size_t(4096)}) {
    std::vector<size_t> sizes(resp.size() / split + 1, split);
    ByteStream r = streamOf(resp, Direction::kRead, sizes);
    auto msgs = parseHttp1Stream(r, {"GET"});
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_TRUE(msgs[0].complete);
    EXPECT_TRUE(msgs[0].decoded);
    EXPECT_TRUE(msgs[0].chunked);
    EXPECT_EQ(msgs[0].contentEncoding, "gzip");
    EXPECT_EQ(msgs[0].wireBodyBytes, gz.size());
    EXPECT_EQ(msgs[0].body, text);
    EXPECT_EQ(msgs[0].problem, "");
  }
}

TEST(Http1, DeflateZlibAndRawAreDecoded) {
  std::string text = "deflated body deflated body deflated body";
  auto out = decodeContent("deflate", gzipOf(text, false));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, text);
  // Raw deflate (no zlib header), as some servers send.
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string raw(256, '\0');
  z.next_in = reinterpret_cast<Bytef*>(text.data());
  z.avail_in = text.size();
  z.next_out = reinterpret_cast<Bytef*>(raw.data());
  z.avail_out = raw.size();
  deflate(&z, Z_FINISH);
  raw.resize(z.total_out);
  deflateEnd(&z);
  out = decodeContent("deflate", raw);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, text);
  out = decodeContent("br", "xx");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("br"), std::string::npos);
  EXPECT_FALSE(decodeContent("gzip", "not gzip at all").ok());
}

TEST(Http1, CutMidBodyIsIncompleteAndKeepsOnlyWhatArrived) {
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
  ByteStream r = streamOf(resp, Direction::kRead);
  auto msgs = parseHttp1Stream(r);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(msgs[0].complete);
  EXPECT_EQ(msgs[0].body, "0123456789");
  EXPECT_NE(msgs[0].problem.find("stream ends at offset"), std::string::npos) << msgs[0].problem;
}

TEST(Http1, CutInStartLineMakesNoMessage) {
  HttpParseStats stats;
  std::string two = kResp + "HTTP/1.1 2";
  auto msgs = parseHttp1Stream(streamOf(two, Direction::kRead), {}, &stats);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(msgs[0].complete);
  EXPECT_EQ(stats.unparsedBytes, 10u);
}

TEST(Http1, CutInHeadersIsIncomplete) {
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Le";
  auto msgs = parseHttp1Stream(streamOf(resp, Direction::kRead));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(msgs[0].complete);
  EXPECT_EQ(msgs[0].status, 200);
  EXPECT_TRUE(msgs[0].body.empty());
}

TEST(Http1, GapInBodyWithKnownLengthResumesAtNextMessage) {
  std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nAAAAAAAAAABBBBBBBBBB";
  std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
  std::string all = first + second;
  auto recs = recordsOf(all, Direction::kRead, {first.size() - 15, 10, 5, 100});
  recs.erase(recs.begin() + 1);   // 10 body bytes of the first response lost
  ByteStream r = assembleStream(1, Direction::kRead, recs);
  auto msgs = parseHttp1Stream(r);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_FALSE(msgs[0].complete);
  EXPECT_NE(msgs[0].problem.find("gap of 10 bytes"), std::string::npos) << msgs[0].problem;
  EXPECT_EQ(msgs[0].body, "AAAAA");   // nothing of the gap is invented
  EXPECT_TRUE(msgs[1].complete);
  EXPECT_EQ(msgs[1].status, 404);
  EXPECT_EQ(msgs[1].body, "no");
}

TEST(Http1, GapInChunkedBodyResyncsOnNextStartLine) {
  std::string first = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked("abcdefghij", 3);
  std::string second = "HTTP/1.1 204 No Content\r\n\r\n";
  std::string all = first + second;
  auto recs = recordsOf(all, Direction::kRead, {first.size() - 12, 4, 100});
  recs.erase(recs.begin() + 1);
  ByteStream r = assembleStream(1, Direction::kRead, recs);
  HttpParseStats stats;
  auto msgs = parseHttp1Stream(r, {}, &stats);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_FALSE(msgs[0].complete);
  EXPECT_EQ(msgs[1].status, 204);
  EXPECT_TRUE(msgs[1].complete);
  EXPECT_EQ(stats.incompleteMessages, 1u);
  EXPECT_GT(stats.unparsedBytes, 0u);
}

// A request lost in a gap must not shift every later pairing by one.
TEST(Http1, LostRequestDoesNotShiftPairing) {
  std::string q1 = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string q2 = "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  std::string q3 = "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
  auto resp = [](const std::string& b) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(b.size()) + "\r\n\r\n" + b;
  };
  std::string r1 = resp("one"), r2 = resp("two"), r3 = resp("three");
  // Request i at t=100*i, response i at t=100*i+50; request 2 is never captured.
  std::vector<TlsRecord> w, r;
  uint64_t off = 0;
  for (auto [bytes, t] : {std::pair{q1, 100}, std::pair{q2, 200}, std::pair{q3, 300}}) {
    auto v = recordsOf(bytes, Direction::kWrite, {}, 1, t, 1, off);
    off += bytes.size();
    if (t != 200) w.insert(w.end(), v.begin(), v.end());
  }
  off = 0;
  for (auto [bytes, t] : {std::pair{r1, 150}, std::pair{r2, 250}, std::pair{r3, 350}}) {
    auto v = recordsOf(bytes, Direction::kRead, {}, 1, t, 1, off);
    off += bytes.size();
    r.insert(r.end(), v.begin(), v.end());
  }
  ByteStream ws = assembleStream(1, Direction::kWrite, w);
  ByteStream rs = assembleStream(1, Direction::kRead, r);
  auto xs = parseHttp1Connection(&ws, &rs);
  ASSERT_EQ(xs.size(), 3u);
  EXPECT_EQ(xs[0].path(), "/1");
  EXPECT_EQ(xs[0].response->body, "one");
  EXPECT_FALSE(xs[1].request);
  EXPECT_EQ(xs[1].response->body, "two");
  EXPECT_EQ(xs[2].path(), "/3");
  EXPECT_EQ(xs[2].response->body, "three");
}

TEST(Http1, HeadAndInterimResponses) {
  std::string reqs = "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\n"
                     "Expect: 100-continue\r\nContent-Length: 1\r\n\r\nx";
  std::string resps = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"
                      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ByteStream w = streamOf(reqs, Direction::kWrite);
  ByteStream r = streamOf(resps, Direction::kRead);
  auto xs = parseHttp1Connection(&w, &r);
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].method(), "HEAD");
  EXPECT_TRUE(xs[0].response->body.empty());
  EXPECT_TRUE(xs[0].complete());
  EXPECT_EQ(xs[1].status(), 200);
  EXPECT_EQ(xs[1].response->body, "ok");
}

TEST(Http1, CloseDelimitedResponseRunsToTheEnd) {
  std::string resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
  auto msgs = parseHttp1Stream(streamOf(resp, Direction::kRead));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(msgs[0].complete);
  EXPECT_EQ(msgs[0].body, "all of it");
}

TEST(Http1, ServerSideIsRecognised) {
  ByteStream w = streamOf(kResp, Direction::kWrite, {}, 9000);
  ByteStream r = streamOf(kReq, Direction::kRead);
  auto xs = parseHttp1Connection(&w, &r);
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_TRUE(xs[0].serverSide);
  EXPECT_EQ(xs[0].method(), "POST");
  EXPECT_EQ(xs[0].status(), 200);
}

TEST(Http1, NotHttpIsSkippedAndCounted) {
  HttpParseStats stats;
  auto msgs = parseHttp1Stream(streamOf("\x16\x03\x01 garbage bytes\r\n\r\n", Direction::kWrite), {},
                               &stats);
  EXPECT_TRUE(msgs.empty());
  EXPECT_GT(stats.unparsedBytes, 0u);
}

TEST(Http1, BadFramingIsReportedNotFatal) {
  std::string resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n"
                     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1";
  auto msgs = parseHttp1Stream(streamOf(resp, Direction::kRead));
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_FALSE(msgs[0].complete);
  EXPECT_NE(msgs[0].problem.find("bad chunk size"), std::string::npos);
  EXPECT_TRUE(msgs[1].complete);
  std::string bad = "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n";
  auto m2 = parseHttp1Stream(streamOf(bad, Direction::kRead));
  ASSERT_EQ(m2.size(), 1u);
  EXPECT_NE(m2[0].problem.find("Content-Length"), std::string::npos);
}

TEST(Http1, ParseExchangesAcrossConnectionsSortedByTime) {
  std::vector<ByteStream> streams;
  streams.push_back(assembleStream(1, Direction::kWrite, recordsOf(kReq, Direction::kWrite, {}, 1, 500)));
  streams.push_back(assembleStream(1, Direction::kRead, recordsOf(kResp, Direction::kRead, {}, 1, 600)));
  streams.push_back(assembleStream(2, Direction::kWrite, recordsOf(kReq, Direction::kWrite, {}, 2, 100)));
  auto xs = parseExchanges(streams);
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].conn, 2u);
  EXPECT_FALSE(xs[0].response);
  EXPECT_EQ(xs[1].conn, 1u);
  EXPECT_TRUE(xs[1].complete());
}

}  // namespace
}  // namespace aa::traffic
