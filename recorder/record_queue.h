// RecordQueue: the hand-over from aa-record's draining thread to its writing thread.
// Maps from raw ring-buffer records (and the timer's markers), copied in the order they
// were drained, to the same sequence on the other side. One producer, one consumer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

namespace aa {

// Records copied off the ring by the draining thread, and markers, in the order they
// came: the writing thread decodes, batches, compresses, writes and indexes them. The
// draining thread appends to a block of its own and publishes it after each drain of the
// ring; when maxQueuedBytes wait it waits for the writer (the ring then fills, and the
// kernel counts what it cannot queue). Entry: u32 kind, u32 size, the bytes, padded to 8.
class RecordQueue {
 public:
  enum Kind : uint32_t { kRecord = 0, kTick = 1, kEnd = 2 };
  static constexpr size_t kDefaultMaxQueuedBytes = size_t(256) << 20;

  explicit RecordQueue(size_t maxQueuedBytes = kDefaultMaxQueuedBytes) : max_(maxQueuedBytes) {}
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;

  // Draining thread.
  void add(Kind kind, const void* data = nullptr, uint32_t size = 0) {
    const size_t at = open_.size();
    open_.resize(at + 8 + ((size_t(size) + 7) & ~size_t(7)));
    std::memcpy(open_.data() + at, &kind, 4);
    std::memcpy(open_.data() + at + 4, &size, 4);
    if (size) std::memcpy(open_.data() + at + 8, data, size);
  }
  void publish() {
    if (open_.empty()) return;
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return queued_ < max_ || dropping_; });
    queued_ += open_.size();
    blocks_.push_back(std::move(open_));
    open_ = std::vector<uint8_t>();
    ready_.notify_one();
  }
  // Any thread: what is still queued is dropped (an immediate stop).
  void drop() {
    std::lock_guard lock(mu_);
    dropping_ = true;
    room_.notify_all();
    ready_.notify_all();  // the writing thread may be waiting for a block
  }

  // Writing thread: the published blocks, in order (waits for one); empty after drop().
  std::deque<std::vector<uint8_t>> take() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !blocks_.empty() || dropping_; });
    std::deque<std::vector<uint8_t>> out;
    if (!dropping_) out.swap(blocks_);
    queued_ = 0;
    room_.notify_all();
    return out;
  }
  bool dropping() {
    std::lock_guard lock(mu_);
    return dropping_;
  }

 private:
  std::vector<uint8_t> open_;   // the draining thread's, not yet published
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::vector<uint8_t>> blocks_;
  size_t queued_ = 0;
  bool dropping_ = false;
  const size_t max_;
};

// Walks one published block: fn(kind, data, size) per entry, in order; stops early when
// fn returns false.
template <typename Fn>
void forEachEntry(const std::vector<uint8_t>& block, Fn&& fn) {
  for (size_t at = 0; at + 8 <= block.size();) {
    uint32_t kind, size;
    std::memcpy(&kind, block.data() + at, 4);
    std::memcpy(&size, block.data() + at + 4, 4);
    const uint8_t* data = block.data() + at + 8;
    at += 8 + ((size_t(size) + 7) & ~size_t(7));
    if (!fn(RecordQueue::Kind(kind), data, size)) return;
  }
}


}  // namespace aa
