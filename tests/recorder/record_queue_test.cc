// RecordQueue (recorder/record_queue.h): what the draining thread adds comes out on the
// writing thread whole and in order, markers included; a full queue holds the producer
// back; drop() releases both sides.
#include "recorder/record_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace aa {
namespace {

struct Entry {
  RecordQueue::Kind kind;
  std::string bytes;
};

std::vector<Entry> drainAll(RecordQueue& q) {
  std::vector<Entry> out;
  bool ended = false;
  while (!ended) {
    auto blocks = q.take();
    if (blocks.empty() && q.dropping()) break;
    for (const auto& b : blocks) {
      forEachEntry(b, [&](RecordQueue::Kind k, const uint8_t* d, uint32_t n) {
        out.push_back({k, std::string(reinterpret_cast<const char*>(d), n)});
        if (k == RecordQueue::kEnd) ended = true;
        return !ended;
      });
      if (ended) break;
    }
  }
  return out;
}

TEST(RecordQueue, EntriesArriveWholeAndInOrderAcrossThreads) {
  RecordQueue q;
  std::vector<Entry> got;
  std::thread consumer([&] { got = drainAll(q); });
  std::vector<std::string> sent;
  for (int i = 0; i < 20000; ++i) {
    std::string rec(size_t(i % 37), char('a' + i % 26));  // sizes 0..36: padding exercised
    rec += std::to_string(i);
    q.add(RecordQueue::kRecord, rec.data(), uint32_t(rec.size()));
    sent.push_back(rec);
    if (i % 1000 == 999) {
      q.add(RecordQueue::kTick);
      q.publish();
    }
  }
  q.add(RecordQueue::kEnd);
  q.publish();
  consumer.join();
  size_t r = 0, ticks = 0;
  for (const Entry& e : got) {
    if (e.kind == RecordQueue::kTick) {
      ++ticks;
      EXPECT_EQ(r % 1000, 0u) << "a tick came out of its place";
      continue;
    }
    if (e.kind == RecordQueue::kEnd) break;
    ASSERT_LT(r, sent.size());
    EXPECT_EQ(e.bytes, sent[r]) << "record " << r;
    ++r;
  }
  EXPECT_EQ(r, sent.size());
  EXPECT_EQ(ticks, 20u);
  EXPECT_EQ(got.back().kind, RecordQueue::kEnd);
}

TEST(RecordQueue, AFullQueueHoldsTheProducerUntilTheConsumerTakes) {
  RecordQueue q(64);  // bytes: one 100-byte record fills it
  const std::string rec(100, 'x');
  q.add(RecordQueue::kRecord, rec.data(), uint32_t(rec.size()));
  q.publish();
  std::atomic<bool> second{false};
  std::thread producer([&] {
    q.add(RecordQueue::kRecord, rec.data(), uint32_t(rec.size()));
    q.publish();  // waits: the first block is still queued
    second = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(second) << "published beyond the bound";
  auto first = q.take();
  EXPECT_EQ(first.size(), 1u);
  producer.join();
  EXPECT_TRUE(second);
  EXPECT_EQ(q.take().size(), 1u);
}

TEST(RecordQueue, DropReleasesAWaitingConsumerAndProducer) {
  RecordQueue q(64);
  std::thread consumer([&] { EXPECT_TRUE(q.take().empty()); });  // waits for a block
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  q.drop();
  consumer.join();  // would hang if drop() did not wake it
  EXPECT_TRUE(q.dropping());
  const std::string rec(100, 'y');
  q.add(RecordQueue::kRecord, rec.data(), uint32_t(rec.size()));
  q.publish();
  q.add(RecordQueue::kRecord, rec.data(), uint32_t(rec.size()));
  q.publish();  // over the bound, but dropping: returns
  EXPECT_TRUE(q.take().empty());
}

}  // namespace
}  // namespace aa
