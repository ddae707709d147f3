#include "store/session_reader.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

#include <capnp/serialize.h>
#include <kj/exception.h>

#include "store/format.h"
#include "store/index.h"
#include "store/file_mapping.h"
#include "store/meta_codec.h"
#include "store/private_file.h"

namespace aa {
namespace {

constexpr size_t kCachedFrames = 8;

// Decompression buffers, recycled: a scan decodes frame after frame of similar size,
// and a fresh allocation per frame costs page faults and brk/munmap calls.
class BufferPool final : public kj::ArrayDisposer {
 public:
  ~BufferPool() {
    for (auto& [ptr, words] : free_) delete[] ptr;
  }
  // An array of at least `words` words (its size is the buffer's capacity).
  kj::Array<capnp::word> take(size_t words) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->second >= words) {
          auto [ptr, cap] = *it;
          free_.erase(it);
          return kj::Array<capnp::word>(ptr, cap, *this);
        }
      }
    }
    size_t cap = 1024;
    while (cap < words) cap *= 2;
    return kj::Array<capnp::word>(new capnp::word[cap], cap, *this);
  }

 private:
  void disposeImpl(void* first, size_t, size_t, size_t capacity,
                   void (*)(void*)) const override {
    auto* ptr = static_cast<capnp::word*>(first);
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kMaxFree) free_.emplace_back(ptr, capacity);
    else delete[] ptr;
  }
  static constexpr size_t kMaxFree = 16;
  mutable std::mutex mu_;
  mutable std::vector<std::pair<capnp::word*, size_t>> free_;
};

class DecodedFrameImpl final : public DecodedFrame {
 public:
  // `words` either points into the mapped file or into `owned`.
  // `pool` is where `owned` goes back to; holding it keeps it alive for that.
  DecodedFrameImpl(std::shared_ptr<BufferPool> pool, kj::Array<capnp::word> owned,
                   kj::ArrayPtr<const capnp::word> words)
      : pool_(std::move(pool)), owned_(kj::mv(owned)), reader_(words, options(words.size())) {}
  ~DecodedFrameImpl() noexcept override {}
  capnp::List<schema::Event>::Reader events() const override {
    return const_cast<capnp::FlatArrayMessageReader&>(reader_).getRoot<schema::Batch>().getEvents();
  }

 private:
  static capnp::ReaderOptions options(size_t words) {
    capnp::ReaderOptions o;
    // Each word may be visited a few times by a caller that reads fields repeatedly;
    // the limit only guards against pointer loops in damaged data.
    o.traversalLimitInWords = words * 64 + 1024;
    return o;
  }
  std::shared_ptr<BufferPool> pool_;
  kj::Array<capnp::word> owned_;
  capnp::FlatArrayMessageReader reader_;
};

std::string errnoText(int err) { return std::strerror(err); }

}  // namespace

class SessionReader::Impl {
 public:
  Status open(const std::string& path, const ReaderOptions& options);
  StatusOr<std::shared_ptr<const DecodedFrame>> decode(size_t i) const;
  // decode() without the cache and the shrink check: reads frame f from the map.
  StatusOr<std::shared_ptr<const DecodedFrame>> decodeMapped(const FrameInfo& f, bool validated) const;
  std::string where(uint64_t offset) const { return path_ + ": offset " + std::to_string(offset); }

  std::string path_;
  // The log, mapped: a file that shrinks under the reader reads as zeros past its new
  // end instead of faulting (SIGBUS), and every frame is checked against that
  // (shrankBefore) once its bytes are out of the map.
  FileMapping file_;
  const uint8_t* map_ = nullptr;   // file_.data()
  uint64_t size_ = 0;              // the file's size when opened
  uint64_t dataStart_ = 0;
  int logMode_ = 0600;
  SessionHeaderInfo header_;
  std::optional<SessionFooterInfo> footer_;
  Status damage_;
  bool rebuilt_ = false;
  bool live_ = false;   // a writer holds the lock: the tail may be a frame still being written
  std::vector<FrameInfo> frames_;
  sql::Db db_;
  mutable std::mutex cacheMu_;
  mutable std::list<std::pair<size_t, std::shared_ptr<const DecodedFrame>>> cache_;
  // Frames whose checksum and structure were checked once: a log is append-only,
  // so a frame that was whole stays whole.
  mutable std::vector<bool> validated_;
  mutable std::atomic<uint64_t> bytesDecoded_{0};
  std::shared_ptr<BufferPool> buffers_ = std::make_shared<BufferPool>();

 private:
  Status readHeader();
  // The copy of the file header kept in the first batch frame, searched from `from`.
  std::optional<std::pair<SessionHeaderInfo, uint64_t>> findHeaderCopy(uint64_t from) const;
  // Scans every frame of the log into `indexer`, finding the footer and any damage.
  void scan(Indexer& indexer, const ReaderOptions& options);
  // Whether the frame at `off` (whole, header h) starts a sequence that the next frame
  // does not contradict: a jump forward in seq is real only when what follows agrees.
  bool sequenceConfirmed(uint64_t off, const format::FrameHeader& h, uint64_t nextSeq) const;
  void findFooter();
  // Why the index's frame table does not describe this log, or nullopt when it does.
  std::optional<std::string> indexMismatch(const IndexMeta& meta,
                                           const std::vector<FrameInfo>& frames,
                                           bool verifyChecksums) const;
  Status rebuildInto(const std::string& dbPath, const ReaderOptions& options);

 public:
  // The payload of the whole frame at `off` as message words: in the map, or
  // decompressed into `owned`. Every length is checked against what is stored.
  std::optional<std::string> payloadWords(uint64_t off, const format::FrameHeader& h,
                                          kj::Array<capnp::word>& owned,
                                          kj::ArrayPtr<const capnp::word>& words) const;
  // Damage met after opening (a frame at `offset` whose bytes changed under the
  // reader): kept as the damage if none was seen at open, the one of the lowest offset
  // among those met later (threads decode frames in any order), and the index is
  // marked stale for the next open.
  void noteLateDamage(const Status& why, uint64_t offset) const;
  // Why the bytes before `end` read from the map are not the file's, or nullopt when
  // they are: the file shrank below `end` after it was opened (truncated, or rewritten
  // in place), so they read as zeros. One fstat.
  std::optional<std::string> shrankBefore(uint64_t end) const;
  mutable bool lateNoted_ = false;   // the index was marked stale (under cacheMu_)
  mutable uint64_t lateOffset_ = 0;  // damage_ is late damage at this offset (lateNoted_)
  uint64_t mtimeNs_ = 0, ino_ = 0;
  std::string indexNote_;
};

namespace {
uint64_t mtimeOf(const struct stat& st) {
#ifdef __APPLE__
  return uint64_t(st.st_mtimespec.tv_sec) * 1000000000ull + st.st_mtimespec.tv_nsec;
#else
  return uint64_t(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
#endif
}
}  // namespace

std::optional<std::string> SessionReader::Impl::payloadWords(
    uint64_t off, const format::FrameHeader& h, kj::Array<capnp::word>& owned,
    kj::ArrayPtr<const capnp::word>& words) const {
  const uint8_t* payload = map_ + off + format::kFrameHeaderSize;
  if (off + format::kFrameHeaderSize + h.storedLen > size_) return "frame outside the file";
  if (!(h.flags & format::kFlagZstd)) {
    if (h.rawLen != h.storedLen || h.rawLen % 8 != 0) return "inconsistent frame length";
    // Copied, never read in place: a decoded frame outlives the check that its bytes
    // were the file's (the file can shrink under the map after it).
    owned = buffers_->take(h.rawLen / 8);
    std::memcpy(owned.begin(), payload, h.rawLen);
    words = owned.slice(0, h.rawLen / 8);
    return std::nullopt;
  }
  // The zstd frame states its content size; it must be the raw length the header
  // claims, or the buffer sized from that claim would be overrun or left unfilled.
  unsigned long long content = ZSTD_getFrameContentSize(payload, h.storedLen);
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN ||
      content != h.rawLen || h.rawLen % 8 != 0)
    return "compressed payload does not match the frame's raw length";
  thread_local ZSTD_DCtx* dctx = ZSTD_createDCtx();
  owned = buffers_->take(h.rawLen / 8);
  size_t n = ZSTD_decompressDCtx(dctx, owned.begin(), owned.size() * sizeof(capnp::word),
                                 payload, h.storedLen);
  if (ZSTD_isError(n) || n != h.rawLen) return "cannot decompress frame";
  words = owned.slice(0, h.rawLen / 8);
  return std::nullopt;
}

void SessionReader::Impl::noteLateDamage(const Status& why, uint64_t offset) const {
  std::lock_guard<std::mutex> lock(cacheMu_);
  auto& damage = const_cast<Status&>(damage_);
  if (damage.ok() || (lateNoted_ && offset < lateOffset_)) {
    damage = why;
    lateOffset_ = offset;
  }
  // The index described a log that has changed: the next open must rebuild it.
  if (db_ && !lateNoted_)
    (void)const_cast<sql::Db&>(db_).exec("UPDATE meta SET value=-1 WHERE key='scanned_size'");
  lateNoted_ = true;
}

std::optional<std::string> SessionReader::Impl::shrankBefore(uint64_t end) const {
  if (end <= file_.validUpTo()) return std::nullopt;
  return "the file shrank while being read (" + std::to_string(file_.currentSize()) + " of " +
         std::to_string(size_) + " bytes left)";
}

Status SessionReader::Impl::readHeader() {
  if (size_ == 0) return Status::error(path_ + ": empty file, not a session");
  if (size_ < format::kFileHeaderSize) return Status::error(path_ + ": not an aa-record session (bad magic)");
  const format::FileHeader fh = format::decodeFileHeader(map_);
  const bool magicOk = fh.magicOk;
  const uint32_t len = fh.payloadLen;
  std::string why;
  std::optional<SessionHeaderInfo> parsed;
  if (!magicOk) {
    why = "not an aa-record session (bad magic)";
  } else if (len % 8 != 0 || len > format::kMaxHeaderPayload || format::kFileHeaderSize + len > size_) {
    why = "truncated or damaged session header";
  } else if (format::crc32(map_ + format::kFileHeaderSize, len) != fh.payloadCrc) {
    why = "session header checksum mismatch";
  } else {
    auto words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(map_ + format::kFileHeaderSize),
                              len / 8);
    auto h = decodeHeader(words);
    if (h.ok()) parsed = std::move(h.value());
    else why = h.status().message();
  }
  auto newer = [&](uint32_t v) {
    return Status::error(path_ + ": format version " + std::to_string(v) +
                         " is newer than this reader's (" + std::to_string(format::kFormatVersion) + ")");
  };
  if (parsed) {
    // The payload is checksummed, the version field beside it is not: the payload says.
    if (parsed->formatVersion > format::kFormatVersion) return newer(parsed->formatVersion);
    header_ = std::move(*parsed);
    dataStart_ = format::kFileHeaderSize + len;
    if (fh.version != header_.formatVersion)
      damage_ = Status::error(path_ + ": offset 8: damaged format version field (" +
                              std::to_string(fh.version) + ", the header says " +
                              std::to_string(header_.formatVersion) + ")");
    return {};
  }
  // One damaged bit must not make every frame unreadable: the first batch frame keeps
  // a copy of the header. A file that is not a session has no valid frame to offer.
  if (auto copy = findHeaderCopy(format::kFileHeaderSize)) {
    if (copy->first.formatVersion > format::kFormatVersion) return newer(copy->first.formatVersion);
    header_ = std::move(copy->first);
    dataStart_ = copy->second;
    damage_ = Status::error(path_ + ": offset 0: " + why + "; read the copy of the header in the frame at offset " +
                            std::to_string(copy->second));
    return {};
  }
  if (magicOk && fh.version > format::kFormatVersion) return newer(fh.version);
  return Status::error(path_ + ": " + why);
}

std::optional<std::pair<SessionHeaderInfo, uint64_t>> SessionReader::Impl::findHeaderCopy(
    uint64_t from) const {
  // The header payload is at most kMaxHeaderPayload: the first frame starts before that.
  uint64_t limit = std::min<uint64_t>(size_, format::kFileHeaderSize + format::kMaxHeaderPayload +
                                                 format::kFrameHeaderSize);
  for (uint64_t off = format::align8(from); off + format::kFrameHeaderSize <= limit; off += 8) {
    if (!format::decodeFrameHeader(map_ + off)) continue;   // not a frame's magic
    format::FrameHeader h;
    if (!format::checkFrame(map_ + off, off, size_, &h).ok() || h.type != format::kFrameBatch) continue;
    kj::Array<capnp::word> owned;
    kj::ArrayPtr<const capnp::word> words;
    if (payloadWords(off, h, owned, words)) continue;
    std::optional<SessionHeaderInfo> out;
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&] {
      capnp::FlatArrayMessageReader msg(words);
      auto batch = msg.getRoot<schema::Batch>();
      if (batch.hasHeader()) out = readHeaderFields(batch.getHeader());
    })) {
      (void)e;
      continue;
    }
    // The first whole batch frame decides: only it carries the copy.
    if (!out) return std::nullopt;
    return std::make_pair(std::move(*out), off);
  }
  return std::nullopt;
}

StatusOr<std::shared_ptr<const DecodedFrame>> SessionReader::Impl::decodeMapped(const FrameInfo& f,
                                                                                bool validated) const {
  format::FrameHeader h;
  if (validated) {
    auto hh = format::decodeFrameHeader(map_ + f.offset);
    if (!hh) return Status::error(where(f.offset) + ": bad frame magic (the file changed under the reader)");
    h = *hh;
  } else {
    if (f.offset >= size_ || f.offset % 8 != 0)
      return Status::error(where(f.offset) + ": frame outside the file (stale index?)");
    if (Status bad = format::checkFrame(map_ + f.offset, f.offset, size_, &h); !bad.ok())
      return Status::error(where(f.offset) + ": " + bad.message());
    if (h.type != format::kFrameBatch || h.count != f.count || h.firstSeq != f.firstSeq)
      return Status::error(where(f.offset) + ": frame does not match the index (stale index?)");
  }
  const uint8_t* payload = map_ + f.offset + format::kFrameHeaderSize;
  bytesDecoded_ += h.storedLen;

  // Out of the map: decompressed, or copied (payloadWords). Nothing decoded below
  // reads the map again.
  kj::Array<capnp::word> owned;
  kj::ArrayPtr<const capnp::word> words;
  if (auto err = payloadWords(f.offset, h, owned, words))
    return Status::error(where(f.offset) + ": " + *err);
  if (h.flags & format::kFlagZstd) {
    // The compressed bytes are not needed any more: drop their pages from this
    // process (a file-backed mapping refaults them from the page cache if ever
    // touched again), so a full scan does not keep the whole log resident.
    uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    uintptr_t from = (uintptr_t(payload) + page - 1) & ~(page - 1);
    uintptr_t to = (uintptr_t(payload) + h.storedLen) & ~(page - 1);
    if (to > from) madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  }
  std::shared_ptr<const DecodedFrame> frame;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&] {
    auto d = std::make_shared<DecodedFrameImpl>(buffers_, kj::mv(owned), words);
    if (!validated) {
      // Touch every pointer once so a damaged message fails here, not in a caller.
      capnp::FlatArrayMessageReader check(words);
      check.getRoot<schema::Batch>().totalSize();
      if (d->events().size() != h.count) KJ_FAIL_REQUIRE("event count differs from the frame header");
    }
    frame = std::move(d);
  })) {
    return Status::error(where(f.offset) + ": undecodable frame: " +
                         std::string(e->getDescription().cStr()));
  }
  return frame;
}

StatusOr<std::shared_ptr<const DecodedFrame>> SessionReader::Impl::decode(size_t i) const {
  {
    std::lock_guard<std::mutex> lock(cacheMu_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first == i) {
        cache_.splice(cache_.begin(), cache_, it);
        return cache_.front().second;
      }
    }
  }
  if (i >= frames_.size()) return Status::error(path_ + ": no frame " + std::to_string(i));
  const FrameInfo& f = frames_[i];
  bool validated;
  {
    std::lock_guard<std::mutex> lock(cacheMu_);
    validated = i < validated_.size() && validated_[i];
  }
  // Past a fault the map holds zeros: no need to read them to know.
  if (file_.faulted()) {
    if (auto why = shrankBefore(f.offset + f.length)) return Status::error(where(f.offset) + ": " + *why);
  }
  auto decoded = decodeMapped(f, validated);
  // The bytes were the file's only if the file still reaches past the frame now that
  // they are out of the map (a validated frame's checksum is not computed again). A
  // cut after this point cannot change them any more.
  if (auto why = shrankBefore(f.offset + f.length)) return Status::error(where(f.offset) + ": " + *why);
  if (!decoded.ok()) return decoded.status();
  std::shared_ptr<const DecodedFrame> frame = std::move(decoded).value();
  std::lock_guard<std::mutex> lock(cacheMu_);
  if (validated_.size() < frames_.size()) validated_.resize(frames_.size());
  validated_[i] = true;
  cache_.emplace_front(i, frame);
  if (cache_.size() > kCachedFrames) cache_.pop_back();
  return frame;
}

bool SessionReader::Impl::sequenceConfirmed(uint64_t off, const format::FrameHeader& h,
                                            uint64_t nextSeq) const {
  // Look past frames that are not whole (themselves damage) to the next whole one.
  uint64_t end = h.firstSeq + h.count;
  for (uint64_t next = off + h.frameLength(); next + format::kFrameHeaderSize <= size_; next += 8) {
    format::FrameHeader n;
    if (!format::checkFrame(map_ + next, next, size_, &n).ok()) continue;
    if (n.firstSeq == end) return true;
    // What follows goes on from before this frame's claim: the claim is the damage.
    return !(n.firstSeq >= nextSeq && n.firstSeq < h.firstSeq);
  }
  return true;   // the last frame: nothing to contradict it
}

void SessionReader::Impl::scan(Indexer& indexer, const ReaderOptions& options) {
  uint64_t off = dataStart_;
  uint64_t nextSeq = 0;
  auto lastProgress = std::chrono::steady_clock::now();
  auto noteDamage = [&](uint64_t at, const std::string& why) {
    if (damage_.ok()) damage_ = Status::error(where(at) + ": " + why);
  };
  auto resync = [&](uint64_t from) {
    // The next 8-aligned whole frame with a later sequence number.
    uint64_t next = from;
    for (; next + format::kFrameHeaderSize <= size_; next += 8) {
      format::FrameHeader h2;
      if (format::checkFrame(map_ + next, next, size_, &h2).ok() && h2.firstSeq >= nextSeq) break;
    }
    return next;
  };
  std::optional<std::pair<uint64_t, format::FrameHeader>> lastFooter;
  auto readFooter = [&](uint64_t at, const format::FrameHeader& h) {
    kj::Array<capnp::word> owned;
    kj::ArrayPtr<const capnp::word> words;
    if (auto why = payloadWords(at, h, owned, words)) {
      noteDamage(at, "footer: " + *why);
    } else {
      auto f = decodeFooter(words);
      if (f.ok()) footer_ = f.value();
      else noteDamage(at, f.status().message());
    }
  };
  while (off < size_) {
    format::FrameHeader h;
    Status bad = format::checkFrame(map_ + off, off, size_, &h);
    if (bad.ok() && h.type == format::kFrameBatch) {
      if (h.firstSeq < nextSeq) bad = Status::error("sequence goes back");
      else if (h.firstSeq + h.count < h.firstSeq) bad = Status::error("impossible sequence number");
      else if (h.firstSeq > nextSeq && !sequenceConfirmed(off, h, nextSeq))
        bad = Status::error("impossible sequence number " + std::to_string(h.firstSeq) +
                            " (expected " + std::to_string(nextSeq) + ")");
    }
    if (!bad.ok()) {
      // The file shrank under the scan (truncated, rewritten in place): what follows
      // reads as zeros. The frames before are kept; the scan ends here.
      uint64_t reach = off + format::kFrameHeaderSize;   // what the frame claims to span
      if (reach <= size_) {
        if (auto claimed = format::decodeFrameHeader(map_ + off)) reach = off + claimed->frameLength();
      }
      if (auto why = shrankBefore(reach)) {
        noteDamage(off, *why);
        break;
      }
      // While the writer holds the lock, a frame cut at the end of the file is one whose
      // write has not completed yet, not damage: the session ends before it for now.
      const bool cutAtEnd =
          bad.message() == "truncated frame" || bad.message() == "truncated frame header";
      if (live_ && cutAtEnd && resync(off + 8) + format::kFrameHeaderSize > size_) break;
      noteDamage(off, bad.message());
      off = resync(off + 8);
      continue;
    }
    if (h.type == format::kFrameFooter) {
      uint64_t end = off + h.frameLength();
      if (end < size_) {
        // A footer with data after it (a crafted file, logs concatenated, garbage
        // appended): frames that follow are kept; the footer is the session's only if
        // no frame follows it.
        noteDamage(off, "data after the footer at offset " + std::to_string(off));
        lastFooter = std::make_pair(off, h);
        off = resync(end);
        continue;
      }
      readFooter(off, h);
      off = end;
      lastFooter.reset();
      break;
    }
    lastFooter.reset();
    FrameInfo info;
    info.offset = off;
    info.length = h.frameLength();
    info.firstSeq = h.firstSeq;
    info.count = h.count;
    info.tMin = h.tMin;
    info.tMax = h.tMax;
    frames_.push_back(info);
    auto decoded = decode(frames_.size() - 1);
    if (!decoded.ok()) {
      frames_.pop_back();
      noteDamage(off, decoded.status().message().substr(where(off).size() + 2));
      if (shrankBefore(off + h.frameLength())) break;   // said by decode
    } else {
      // Fields are checked lazily by Cap'n Proto: damage that survived the checksum
      // (a crafted file) surfaces here as an exception.
      KJ_IF_MAYBE(e, kj::runCatchingExceptions(
                         [&] { indexer.addFrame(info, decoded.value()->events()); })) {
        frames_.pop_back();
        noteDamage(off, "undecodable event: " + std::string(e->getDescription().cStr()));
      } else {
        nextSeq = h.firstSeq + h.count;
      }
    }
    off += h.frameLength();
    auto now = std::chrono::steady_clock::now();
    if (options.progress && now - lastProgress > std::chrono::milliseconds(50)) {
      options.progress(off, size_);
      lastProgress = now;
    }
  }
  // Only garbage after the last footer: it still ends the session.
  if (lastFooter && !footer_) readFooter(lastFooter->first, lastFooter->second);
  frames_ = indexer.frames();
  std::lock_guard<std::mutex> lock(cacheMu_);
  cache_.clear();   // frame indexes were provisional during the scan
  validated_.assign(frames_.size(), true);
  if (options.progress) options.progress(size_, size_);
}

void SessionReader::Impl::findFooter() {
  uint64_t off = frames_.empty() ? dataStart_ : frames_.back().offset + frames_.back().length;
  format::FrameHeader h;
  if (off < size_ && format::checkFrame(map_ + off, off, size_, &h).ok() &&
      h.type == format::kFrameFooter) {   // no indexed frame follows it
    kj::Array<capnp::word> owned;
    kj::ArrayPtr<const capnp::word> words;
    if (payloadWords(off, h, owned, words)) return;
    auto f = decodeFooter(words);
    if (f.ok()) footer_ = f.value();
  }
}

std::optional<std::string> SessionReader::Impl::indexMismatch(const IndexMeta& meta,
                                                              const std::vector<FrameInfo>& frames,
                                                              bool verifyChecksums) const {
  // Cheap: one 48-byte frame header per indexed frame, no payload, unless the log was
  // written after indexing (another inode or mtime), when every checksum is verified.
  const bool whole = meta.damage.empty();
  uint64_t expectOff = dataStart_, expectSeq = 0;
  for (const FrameInfo& f : frames) {
    if (f.offset % 8 != 0 || f.offset < dataStart_ || f.offset + f.length > size_ ||
        f.offset + format::kFrameHeaderSize > size_)
      return "frame at " + std::to_string(f.offset) + " lies outside the log";
    if (whole ? f.offset != expectOff || f.firstSeq != expectSeq
              : f.offset < expectOff || f.firstSeq < expectSeq)
      return "frames missing from the index before offset " + std::to_string(f.offset);
    auto h = format::decodeFrameHeader(map_ + f.offset);
    if (!h || h->type != format::kFrameBatch || h->firstSeq != f.firstSeq || h->count != f.count ||
        h->frameLength() != f.length || h->tMin != f.tMin || h->tMax != f.tMax)
      return "the frame at " + std::to_string(f.offset) + " differs from its index row";
    if (verifyChecksums) {
      if (Status bad = format::checkFrame(map_ + f.offset, f.offset, size_, nullptr); !bad.ok())
        return "the log changed after indexing (offset " + std::to_string(f.offset) + ": " +
               bad.message() + ")";
    }
    expectOff = f.offset + f.length;
    expectSeq = f.firstSeq + f.count;
  }
  // The writer's logEnd counts its footer; a rebuild's ends at the last batch frame.
  if (!whole && expectOff != meta.logEnd)
    return "the index ends at offset " + std::to_string(expectOff) + ", its log at " +
           std::to_string(meta.logEnd);
  if (whole && expectOff != size_) {
    // Only a footer may follow the last frame, ending the file, and it counts every event.
    format::FrameHeader h;
    if (!format::checkFrame(map_ + expectOff, expectOff, size_, &h).ok() || h.type != format::kFrameFooter ||
        expectOff + h.frameLength() != size_ || h.firstSeq != expectSeq)
      return "unindexed data after offset " + std::to_string(expectOff);
  }
  return std::nullopt;
}

Status SessionReader::Impl::rebuildInto(const std::string& dbPath, const ReaderOptions& options) {
  Indexer indexer;
  scan(indexer, options);
  rebuilt_ = true;
  IndexMeta meta;
  meta.sessionId = header_.sessionId;
  meta.scannedSize = size_;
  meta.logEnd = frames_.empty() ? dataStart_ : frames_.back().offset + frames_.back().length;
  meta.damage = damage_.ok() ? "" : damage_.message();
  meta.logIno = ino_;
  meta.logMtimeNs = mtimeNs_;

  auto persistTo = [&](const std::string& p) -> Status {
    // The index is as private as the log it describes.
    AA_ASSIGN_OR_RETURN(db_, sql::Db::open(p, false, logMode_));
    AA_RETURN_IF_ERROR(db_.exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF;"));
    AA_RETURN_IF_ERROR(dropIndexTables(db_));
    Status s = Indexer::createSchema(db_);
    // createSchema asks for WAL; a rebuilt index is written once, so keep it simple.
    AA_RETURN_IF_ERROR(db_.exec("PRAGMA journal_mode=DELETE;"));
    AA_RETURN_IF_ERROR(s);
    return indexer.persist(db_, meta);
  };

  // A log that shrank while it was scanned is no longer the one indexed: nothing is
  // written beside it.
  if (dbPath != ":memory:" && !file_.shrank()) {
    // Build beside, then rename over: a reader never sees a half-built index.
    std::string tmp = dbPath + ".tmp." + std::to_string(getpid());
    ::unlink(tmp.c_str());
    Status s = persistTo(tmp);
    if (s.ok()) {
      db_ = sql::Db();
      for (const char* suffix : {"-wal", "-shm"}) ::unlink((dbPath + suffix).c_str());
      if (::rename(tmp.c_str(), dbPath.c_str()) == 0) {
        auto db = sql::Db::open(dbPath, false);
        if (db.ok()) {
          db_ = std::move(db.value());
          return {};
        }
      }
    }
    ::unlink(tmp.c_str());
    // An unwritable directory (a read-only fixture, another user's session): keep
    // the index in memory for this reader only.
  }
  return persistTo(":memory:");
}

Status SessionReader::Impl::open(const std::string& path, const ReaderOptions& options) {
  path_ = path;
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  // It changes nothing for a regular file, the only kind accepted.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Status::error(path + ": cannot open: " + errnoText(errno));
  struct stat st{};
  const int statErr = fstat(fd, &st) == 0 ? 0 : errno;
  if (statErr || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (statErr) return Status::error(path + ": cannot stat: " + errnoText(statErr));
    return Status::error(path + ": is " + fileTypeName(st.st_mode) + ", not a session file");
  }
  size_ = st.st_size;
  logMode_ = st.st_mode & 0777;
  ino_ = st.st_ino;
  mtimeNs_ = mtimeOf(st);
  AA_ASSIGN_OR_RETURN(file_, FileMapping::map(fd, size_, path));   // owns fd from here
  map_ = file_.data();
  // Read small sessions ahead whole; large ones page in as frames are decoded.
  if (size_ > 0 && size_ < (64u << 20)) madvise(const_cast<uint8_t*>(map_), size_, MADV_WILLNEED);
  AA_RETURN_IF_ERROR(readHeader());
  // A session being recorded is locked by its writer: read it with a private index.
  bool live = flock(file_.fd(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  if (!live) flock(file_.fd(), LOCK_UN);
  live_ = live;

  const std::string indexPath = aa::indexPath(path);
  if (!options.useIndex || live) return rebuildInto(":memory:", options);
  // SQLite would open a FIFO planted as the index (or its -wal, -shm) and wait on it
  // forever: anything there but a regular file (or nothing) is left alone, and this
  // reader keeps its index in memory.
  const auto files = indexFiles(path);
  for (const std::string& f : files) {
    struct stat ist{};
    if (lstat(f.c_str(), &ist) == 0 && !S_ISREG(ist.st_mode) &&
        !(S_ISLNK(ist.st_mode) && &f == &files.front()))
      return rebuildInto(":memory:", options);
  }

  if (!options.rebuildIndex && ::access(indexPath.c_str(), F_OK) == 0) {
    auto db = sql::Db::open(indexPath, false);
    if (!db.ok()) db = sql::Db::open(indexPath, true);
    if (db.ok()) {
      auto meta = readIndexMeta(db.value());
      if (meta && meta->sessionId == header_.sessionId && meta->scannedSize == size_) {
        auto frames = loadFrames(db.value());
        if (frames.ok()) {
          bool changed = meta->logIno != ino_ || meta->logMtimeNs != mtimeNs_;
          auto mismatch = indexMismatch(*meta, frames.value(), changed);
          if (!mismatch) {
            db_ = std::move(db.value());
            frames_ = std::move(frames.value());
            if (!meta->damage.empty() && damage_.ok()) damage_ = Status::error(meta->damage);
            if (changed) {
              // Checked whole (a copy, a touch): remember this file so the next open is cheap.
              sql::Stmt up(db_, "INSERT OR REPLACE INTO meta VALUES(?,?)");
              up.bindText(1, "log_ino").bind(2, int64_t(ino_));
              (void)up.run();
              up.bindText(1, "log_mtime_ns").bind(2, int64_t(mtimeNs_));
              (void)up.run();
            }
            findFooter();
            return {};
          }
          indexNote_ = *mismatch;
        }
      }
    }
  }
  return rebuildInto(indexPath, options);
}

SessionReader::SessionReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SessionReader::~SessionReader() = default;

StatusOr<std::unique_ptr<SessionReader>> SessionReader::open(const std::string& path,
                                                             ReaderOptions options) {
  auto impl = std::make_unique<Impl>();
  Status s = impl->open(path, options);
  if (!s.ok()) return s;
  return std::unique_ptr<SessionReader>(new SessionReader(std::move(impl)));
}

const std::string& SessionReader::path() const { return impl_->path_; }
const SessionHeaderInfo& SessionReader::header() const { return impl_->header_; }
const std::optional<SessionFooterInfo>& SessionReader::footer() const { return impl_->footer_; }
Status SessionReader::damage() const {
  std::lock_guard<std::mutex> lock(impl_->cacheMu_);   // noteLateDamage may set it on any thread
  return impl_->damage_;
}
bool SessionReader::indexRebuilt() const { return impl_->rebuilt_; }
const std::string& SessionReader::indexNote() const { return impl_->indexNote_; }
const std::vector<FrameInfo>& SessionReader::frames() const { return impl_->frames_; }
uint64_t SessionReader::fileSize() const { return impl_->size_; }
uint64_t SessionReader::bytesDecoded() const { return impl_->bytesDecoded_; }

uint64_t SessionReader::eventCount() const {
  uint64_t n = 0;
  for (const auto& f : impl_->frames_) n += f.count;
  return n;
}

uint64_t SessionReader::relNs(uint64_t monoNs) const {
  uint64_t start = impl_->header_.startMonoNs;
  return monoNs > start ? monoNs - start : 0;
}

uint64_t SessionReader::durationNs() const {
  uint64_t end = 0;
  for (const auto& f : impl_->frames_) end = std::max(end, f.tMax);
  return relNs(end);
}

StatusOr<std::shared_ptr<const DecodedFrame>> SessionReader::frame(size_t i) const {
  return impl_->decode(i);
}

size_t SessionReader::frameOfSeq(uint64_t seq) const {
  const auto& frames = impl_->frames_;
  auto it = std::upper_bound(frames.begin(), frames.end(), seq,
                             [](uint64_t s, const FrameInfo& f) { return s < f.firstSeq; });
  if (it == frames.begin()) return frames.size();
  --it;
  return seq < it->firstSeq + it->count ? size_t(it - frames.begin()) : frames.size();
}

std::vector<size_t> SessionReader::framesFor(const EventQuery& q) const {
  const uint64_t start = impl_->header_.startMonoNs;
  std::vector<size_t> out;
  const auto& frames = impl_->frames_;
  for (size_t i = 0; i < frames.size(); ++i) {
    const FrameInfo& f = frames[i];
    if (f.firstSeq + f.count <= q.fromSeq) continue;
    if (!(f.kinds & q.kinds)) continue;
    if (q.fromNs && f.tMax < start + *q.fromNs) continue;
    if (q.toNs && f.tMin > start + *q.toNs) continue;
    if (!q.pids.empty() &&
        std::none_of(q.pids.begin(), q.pids.end(), [&](uint32_t p) {
          return std::binary_search(f.pids.begin(), f.pids.end(), p);
        }))
      continue;
    out.push_back(i);
  }
  return out;
}

Status SessionReader::forEach(const EventQuery& q,
                              const std::function<bool(schema::Event::Reader)>& visit) const {
  const uint64_t start = impl_->header_.startMonoNs;
  for (size_t i : framesFor(q)) {
    auto frame = impl_->decode(i);
    if (!frame.ok()) {
      // A frame that was whole when indexed and is not now: skip it like a scan does,
      // keep every other frame, and report it through damage().
      impl_->noteLateDamage(frame.status(), impl_->frames_[i].offset);
      continue;
    }
    bool stop = false;
    KJ_IF_MAYBE(e, kj::runCatchingExceptions([&] {
      for (auto e : frame.value()->events()) {
        if (e.getSeq() < q.fromSeq) continue;
        uint64_t t = e.getTNs();
        uint64_t rel = t > start ? t - start : 0;
        if (q.fromNs && rel < *q.fromNs) continue;
        if (q.toNs && rel > *q.toNs) continue;
        if (!(q.kinds & bit(kindOf(e)))) continue;
        if (!q.pids.empty() && std::find(q.pids.begin(), q.pids.end(), e.getPid()) == q.pids.end())
          continue;
        if (!visit(e)) {
          stop = true;
          return;
        }
      }
    })) {
      return Status::error(impl_->where(impl_->frames_[i].offset) + ": " +
                           std::string(e->getDescription().cStr()));
    }
    if (stop) break;
  }
  return {};
}

namespace {

// The derived tables are read from a database this reader opened and checked: a failed
// query is a bug or a broken file, said on stderr rather than shown as an empty table.
template <typename T>
T rowsOrReport(StatusOr<T> rows) {
  if (rows.ok()) return std::move(rows).value();
  std::fprintf(stderr, "aa: %s\n", rows.status().message().c_str());
  return T{};
}

}  // namespace

std::vector<ProcessRow> SessionReader::processes() const {
  return rowsOrReport(readProcessRows(impl_->db_, [this](uint64_t t) { return relNs(t); }));
}

std::vector<FileRow> SessionReader::files() const {
  return rowsOrReport(readFileRows(impl_->db_, [this](uint64_t t) { return relNs(t); }));
}

std::vector<TlsConnRow> SessionReader::tlsConnections() const {
  return rowsOrReport(readTlsConnRows(impl_->db_, [this](uint64_t t) { return relNs(t); }));
}

std::array<uint64_t, kKindCount> SessionReader::kindTotals() const {
  std::array<uint64_t, kKindCount> totals{};
  for (const auto& f : impl_->frames_)
    for (size_t k = 0; k < totals.size(); ++k) totals[k] += f.kindCounts[k];
  return totals;
}

std::vector<LostCountInfo> SessionReader::lostTotals() const {
  return rowsOrReport(readLostRows(impl_->db_));
}

Status replay(const SessionReader& reader, const EventQuery& query, double speed,
              const std::function<bool(schema::Event::Reader)>& visit) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point wallStart = Clock::now();
  std::optional<uint64_t> firstT;
  return reader.forEach(query, [&](schema::Event::Reader e) {
    if (speed > 0) {
      uint64_t t = e.getTNs();
      if (!firstT) firstT = t;
      // Events recorded out of order across CPUs are delivered at once, never earlier
      // than an event already delivered.
      if (t > *firstT) {
        auto due = wallStart + std::chrono::nanoseconds(uint64_t((t - *firstT) / speed));
        std::this_thread::sleep_until(due);
      }
    }
    return visit(e);
  });
}

}  // namespace aa
