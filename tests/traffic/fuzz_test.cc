// A short, deterministic fuzz run inside ctest: random bytes and mutated valid traffic
// through every parser. Asserts no crash and a bounded run time (no hang).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tests/traffic/fuzz_one.h"
#include "tests/traffic/api_samples.h"

namespace aa::traffic {
namespace {

using namespace testing;

// A WebSocket seed: flags 0x18 (upgrade with permessage-deflate); client frames
// (masked, one compressed and fragmented) then server frames (compressed events).
std::string wsSeed() {
  WsDeflater cz, sz;
  std::string create = R"({"type":"response.create","model":"gpt-5","input":"hi"})";
  std::string c1 = cz.compress(create);
  std::string client = wsFrame(1, c1.substr(0, 5), true, false, true) + wsFrame(9, "p", true) +
                       wsFrame(0, c1.substr(5), true, true);
  std::string server;
  for (const auto& e : codexEvents()) server += wsFrame(1, sz.compress(e), false, true, true);
  // fuzzOne splits at data[1] * size / 255: pad the final close frame's reason until
  // some split byte falls exactly between the two directions.
  for (size_t pad = 0; pad < 120; ++pad) {
    std::string all = client + server + wsFrame(8, "\x03\xe8" + std::string(pad, 'x'), false);
    for (unsigned b = 1; b < 255; ++b) {
      if (b * all.size() / 255 == client.size()) {
        return std::string("\x18") + char(b) + std::string("\x3f\x00", 2) + all;
      }
    }
  }
  ADD_FAILURE() << "no split byte for the WebSocket seed";
  return {};
}

std::vector<std::string> seeds() {
  std::string h2 = std::string("\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64", 15);
  return {
      std::string("\x00\x80\x07\x00", 4) + httpRequest("/v1/messages", kAnthropicRequest) +
          httpResponse(anthropicStreamBody(), true, true),
      std::string("\x00\x60\x03\x55", 4) + httpRequest("/v1/chat/completions", kChatRequest) +
          httpResponse(chatStreamBody(), true),
      std::string("\x02\x70\x10\x21", 4) + httpRequest("/v1/responses", kResponsesRequest) +
          httpResponse(responsesStreamBody(), true, true),
      std::string("\x00\x40\x09\x00", 4) + "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 40\r\n\r\n" +
          gzipOf(kChatPlainResponse),
      std::string("\x01\x30\x05\x00", 4) + h2 + h2,
      std::string("\x00\x70\x0b\x00", 4) +
          httpRequest("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", kGeminiRequest) +
          httpResponse(geminiSseBody(), true, true),
      std::string("\x00\x70\x0d\x00", 4) +
          httpRequest("/v1beta/models/gemini-2.5-flash:streamGenerateContent", kGeminiRequest) +
          httpResponse(geminiArrayBody(), false),
      std::string("\x00\x50\x11\x00", 4) + httpRequest("/api/chat", kOllamaChatRequest) +
          "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n" +
          chunked(ollamaChatNdjson(), 100),
      std::string("\x00\x30\x13\x00", 4) + httpRequest("/v1/responses", kCodexRequest) +
          httpResponse(codexSseBody(), true),
      std::string("\x00\x40\x09\x00", 4) + "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 40\r\n\r\n" +
          brotliOf(kChatPlainResponse),
      std::string("\x00\x40\x09\x00", 4) + "HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nContent-Length: 40\r\n\r\n" +
          zstdOf(kChatPlainResponse),
      wsSeed(),
      std::string("\x00\x40\x0f\x00", 4) +
          httpRequest("/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream",
                      kAnthropicRequest) +
          "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\nTransfer-Encoding: chunked\r\n\r\n" +
          chunked(bedrockStreamBody({R"({"type":"message_start","message":{"model":"m"}})",
                                     R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}})",
                                     R"({"type":"message_stop"})"}), 90),
  };
}

// Seeds cut from the recorded fixture (tests/traffic/fuzz_corpus/connN, one per
// connection) and the built-in seeds above (seed-N; AA_WRITE_FUZZ_SEEDS=DIR writes them).
void addCorpus(std::vector<std::string>& out) {
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(AA_TRAFFIC_CORPUS_DIR, ec)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
}

TEST(TrafficFuzz, RandomAndMutatedInputsNeverCrashOrHang) {
  std::mt19937_64 rng(20261125);
  auto start = std::chrono::steady_clock::now();
  auto seedInputs = seeds();
  if (const char* dir = std::getenv("AA_WRITE_FUZZ_SEEDS")) {
    // The built-in seeds as libFuzzer corpus files (tests/traffic/fuzz_corpus/seed-N).
    auto built = seeds();
    for (size_t i = 0; i < built.size(); ++i) {
      std::ofstream(std::string(dir) + "/seed-" + std::to_string(i), std::ios::binary) << built[i];
    }
  }
  addCorpus(seedInputs);
  EXPECT_GT(seedInputs.size(), 5u) << "fuzz_corpus missing";
  // Every seed whole first: they parse as recorded.
  for (const auto& in : seedInputs) fuzzOne(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  {
    // The WebSocket seed is a valid upgraded connection: one call over it.
    std::string ws = wsSeed();
    std::string_view body = std::string_view(ws).substr(4);
    size_t split = size_t(uint8_t(ws[1])) * body.size() / 255;
    std::vector<TlsRecord> recs = recordsOf(
        "GET /v1/responses HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" +
            std::string(body.substr(0, split)), Direction::kWrite, {}, 1, 1000);
    for (auto& r : recordsOf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n" + std::string(body.substr(split)),
                             Direction::kRead, {}, 1, 2000)) {
      recs.push_back(std::move(r));
    }
    Traffic t = analyzeRecords(std::move(recs));
    ASSERT_EQ(t.calls.size(), 1u);
    EXPECT_FALSE(t.calls[0].incomplete) << t.calls[0].problem;
  }
  int runs = 0;
  for (int i = 0; i < 1500; ++i, ++runs) {
    std::string in;
    if (i % 3 == 0) {
      in.resize(rng() % 600);
      for (auto& c : in) c = static_cast<char>(rng());
    } else {
      in = seedInputs[rng() % seedInputs.size()];
      int edits = 1 + rng() % 8;
      for (int k = 0; k < edits && !in.empty(); ++k) {
        size_t p = rng() % in.size();
        switch (rng() % 4) {
          case 0: in[p] = static_cast<char>(rng()); break;
          case 1: in.erase(p, 1 + rng() % 16); break;
          case 2: in.insert(p, std::string(1 + rng() % 4, "\r\n:{}\"0"[rng() % 7])); break;
          case 3: in.resize(p); break;
        }
      }
    }
    fuzzOne(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 20.0) << runs << " inputs took " << secs << " s";
}

// Hostile shapes that once were (or could be) slow: huge declared sizes, deep JSON,
// endless headers.
TEST(TrafficFuzz, HostileShapesAreBounded) {
  std::vector<std::string> inputs = {
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
      "POST / HTTP/1.1\r\n" + std::string(200000, 'a') + ": b\r\n",
      std::string(100000, '['),
      std::string(100000, '\n'),
      "data: " + std::string(100000, '{'),
  };
  for (const auto& s : inputs) {
    std::string in = std::string("\x00\x00\x3f\x00", 4) + s;
    fuzzOne(reinterpret_cast<const uint8_t*>(in.data()), in.size());
    in[1] = '\xff';
    fuzzOne(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  }
}

}  // namespace
}  // namespace aa::traffic
