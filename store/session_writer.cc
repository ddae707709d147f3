#include "store/session_writer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#ifdef __APPLE__
#include <sys/random.h>   // getentropy; glibc declares it in unistd.h
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>

#include <capnp/message.h>
#include <capnp/serialize.h>

#ifdef AA_HAVE_URING
#include <liburing.h>
#endif

#include "store/format.h"
#include "store/index.h"
#include "store/meta_codec.h"

namespace aa {
namespace {

uint64_t clockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::string randomHexId() {
  uint8_t bytes[16] = {};
  if (getentropy(bytes, sizeof bytes) != 0) {
    uint64_t t = clockNs(CLOCK_REALTIME) ^ (uint64_t(getpid()) << 32);
    std::memcpy(bytes, &t, sizeof t);
  }
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s.push_back(hex[b >> 4]);
    s.push_back(hex[b & 15]);
  }
  return s;
}

std::string errnoText(int err) { return std::strerror(err); }

// Data (not metadata) to stable storage. macOS has no fdatasync.
int syncData(int fd) {
#ifdef __APPLE__
  return fsync(fd);
#else
  return fdatasync(fd);
#endif
}

// One frame on its way to the disk. Owned by the writer until its write completed
// and it has been indexed.
struct PendingFrame {
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;        // header + payload + padding, as written
  size_t written = 0;
  bool complete = false;
  FrameInfo info;
  kj::Array<capnp::word> raw;        // the uncompressed message, for the index
};

}  // namespace

class SessionWriter::Impl {
 public:
  ~Impl();
  Status open(const std::string& path, SessionHeaderInfo header, WriterOptions options);
  schema::Event::Builder append();
  Status flush();
  Status close(SessionFooterInfo footer);

  std::string path_;
  WriterOptions opt_;
  SessionHeaderInfo header_;
  WriterStats stats_;
  Status error_;
  uint64_t nextSeq_ = 0;

 private:
  void startBatch();
  Status submit(PendingFrame* f);
  Status reap(bool wait);
  void indexCompleted(bool force);
  Status writeAllSync(const uint8_t* data, size_t len, uint64_t offset);
  void abandonIndex(const Status& why);
  Status createIndexFiles(const std::string& sessionPath);
  void closeIndex();
  int dirFd_ = -1;            // the session's directory, opened at the start
  std::string baseName_;      // the session's file name in it

  void endAfterError(SessionFooterInfo& footer);

  int fd_ = -1;
  uint64_t fileOffset_ = 0;
  // The whole-frame prefix of the file: frames complete in file order up to the first
  // failed one. A write error stops it from advancing.
  uint64_t goodEnd_ = 0, goodSeq_ = 0, goodFrames_ = 0;
  bool writeFailed_ = false;
  uint64_t bytesSinceSync_ = 0;
  bool closed_ = false;

  // The batch being filled (see startBatch).
  std::unique_ptr<capnp::MallocMessageBuilder> msg_;
  capnp::Orphan<capnp::List<schema::Event>> list_;
  capnp::List<schema::Event>::Builder events_;
  uint32_t count_ = 0;
  uint32_t capacity_ = 0;     // list length allocated for this batch
  size_t listWords_ = 0;

  std::deque<std::unique_ptr<PendingFrame>> pending_;   // in file order
  int fsyncsInFlight_ = 0;
  ZSTD_CCtx* zstd_ = nullptr;

  Indexer indexer_;
  sql::Db index_;
  size_t unpersistedFrames_ = 0;
  std::chrono::steady_clock::time_point lastPersist_;

#ifdef AA_HAVE_URING
  io_uring ring_{};
  bool uring_ = false;
#endif
};

SessionWriter::Impl::~Impl() {
  if (!closed_ && fd_ >= 0) {
    // No footer: like a crash, but every submitted frame is completed and indexed.
    // (A destructor has no one to report to: close() is where failures are returned.)
    (void)flush();
    while (!pending_.empty() || fsyncsInFlight_ > 0) {
      if (!reap(true).ok()) break;
    }
    indexCompleted(true);
  }
  closeIndex();
#ifdef AA_HAVE_URING
  if (uring_) io_uring_queue_exit(&ring_);
#endif
  if (fd_ >= 0) ::close(fd_);
  if (dirFd_ >= 0) ::close(dirFd_);
  if (zstd_) ZSTD_freeCCtx(zstd_);
}

void SessionWriter::Impl::closeIndex() {
  if (!index_) return;
  // The last connection checkpoints. With SQLITE_FCNTL_PERSIST_WAL SQLite removes
  // nothing by path (a directory on the way may have been swapped since the start);
  // the -wal and -shm go here, by name in the directory opened at the start.
  index_ = sql::Db();
  if (dirFd_ < 0) return;
  const auto files = indexFiles(baseName_);
  for (size_t i : {1, 2})   // -wal, -shm
    ::unlinkat(dirFd_, files[i].c_str(), 0);
}

Status SessionWriter::Impl::open(const std::string& path, SessionHeaderInfo header,
                                 WriterOptions options) {
  path_ = path;
  opt_ = options;
  if (opt_.batchEvents == 0) opt_.batchEvents = 1;
  if (opt_.inFlight == 0) opt_.inFlight = 1;

  if (opt_.fd >= 0) {
    fd_ = opt_.fd;
    opt_.fd = -1;
  } else {
    PrivateFileOptions po;
    po.existing = opt_.existing;
    po.mode = opt_.fileMode;
    po.ownerUid = opt_.ownerUid;
    po.ownerGid = opt_.ownerGid;
    po.lock = true;   // readers see a live session by it; a second writer is refused by it
    AA_ASSIGN_OR_RETURN(fd_, createPrivateFile(path, po));
  }

  header.formatVersion = format::kFormatVersion;
  if (header.sessionId.empty()) header.sessionId = randomHexId();
  if (header.host.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    header.host = host;
  }
  if (header.kernel.empty()) {
    utsname u{};
    if (uname(&u) == 0) header.kernel = u.release;
  }
  if (header.startMonoNs == 0) header.startMonoNs = clockNs(CLOCK_MONOTONIC);
  if (header.startWallNs == 0) {
    uint64_t mono = clockNs(CLOCK_MONOTONIC);
    int64_t wall = clockNs(CLOCK_REALTIME);
    header.clockOffsetNs = wall - int64_t(mono);
    header.startWallNs = int64_t(header.startMonoNs) + header.clockOffsetNs;
  }
  header_ = header;

  kj::Array<capnp::word> words = encodeHeader(header_);
  auto payload = words.asBytes();
  std::vector<uint8_t> fileHeader(format::kFileHeaderSize);
  format::FileHeader fh;
  fh.payloadLen = uint32_t(payload.size());
  fh.payloadCrc = format::crc32(payload.begin(), payload.size());
  format::encodeFileHeader(fh, fileHeader.data());
  fileHeader.insert(fileHeader.end(), payload.begin(), payload.end());
  AA_RETURN_IF_ERROR(writeAllSync(fileHeader.data(), fileHeader.size(), 0));
  fileOffset_ = fileHeader.size();
  goodEnd_ = fileOffset_;
  stats_.bytesWritten = fileOffset_;

  zstd_ = ZSTD_createCCtx();
  if (!zstd_) return Status::error(path + ": zstd: out of memory");

#ifdef AA_HAVE_URING
  if (opt_.useIoUring) {
    int rc = io_uring_queue_init(opt_.inFlight * 2 + 2, &ring_, 0);
    uring_ = rc == 0;   // otherwise fall back to pwrite (e.g. io_uring disabled by sysctl)
  }
#endif

  if (opt_.writeIndex) {
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    baseName_ = slash == std::string::npos ? path : path.substr(slash + 1);
    dirFd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    // SQLite opens its files by path, and would create -wal and -shm itself: each is
    // made here first, fresh, never through a symlink, with the session's mode and
    // owner (on the descriptor). SQLite then never follows a symlink either (sql::Db).
    Status made = createIndexFiles(path);
    if (!made.ok()) abandonIndex(made);
  }
  if (opt_.writeIndex) {
    auto db = sql::Db::open(indexPath(path), false, opt_.fileMode);
    if (!db.ok()) {
      abandonIndex(db.status());
    } else {
      index_ = std::move(db.value());
      int persist = 1;
      sqlite3_file_control(index_.get(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
      Status s = Indexer::createSchema(index_);
      if (!s.ok()) abandonIndex(s);
    }
  }
  lastPersist_ = std::chrono::steady_clock::now();
  capacity_ = std::min<uint32_t>(opt_.batchEvents, 1024);
  startBatch();
  return {};
}

Status SessionWriter::Impl::createIndexFiles(const std::string& sessionPath) {
  PrivateFileOptions po;
  po.mode = opt_.fileMode;
  po.ownerUid = opt_.ownerUid;
  po.ownerGid = opt_.ownerGid;
  const auto files = indexFiles(sessionPath);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& p = files[i];
    // A stale index is a cache of an older log: remove it (unlink removes a symlink,
    // never its target). Anything that cannot be removed makes the creation fail.
    if (::unlink(p.c_str()) != 0 && errno != ENOENT)
      return Status::error(p + ": cannot remove the old index: " + errnoText(errno));
    if (i == files.size() - 1) continue;   // -journal: WAL mode makes none
    AA_ASSIGN_OR_RETURN(const int fd, createPrivateFile(p, po));
    ::close(fd);
  }
  return {};
}

void SessionWriter::Impl::abandonIndex(const Status& why) {
  // The index is a cache the reader can rebuild; a recording never fails for it.
  closeIndex();
  opt_.writeIndex = false;
  if (stats_.indexError.empty()) stats_.indexError = why.message();
}

void SessionWriter::Impl::startBatch() {
  constexpr size_t kStructWords = schema::Event::_capnpPrivate::dataWordSize +
                                  schema::Event::_capnpPrivate::pointerCount;
  // The whole batch should live in ONE segment: a reader following pointers across
  // segments pays a far-pointer hop and a lock per access. So the first segment holds
  // the root, the event list (at capacity_) and batchBytes of event data, plus room for
  // the one event that crosses the limit. The list is allocated first; the unused tail
  // left by truncating it at flush is zeros, which zstd removes.
  listWords_ = size_t(capacity_) * kStructWords;
  size_t words = 3 + listWords_ + (opt_.batchBytes + (256u << 10)) / 8;
  msg_ = std::make_unique<capnp::MallocMessageBuilder>(
      words, capnp::AllocationStrategy::GROW_HEURISTICALLY);
  msg_->initRoot<schema::Batch>();
  list_ = msg_->getOrphanage().newOrphan<capnp::List<schema::Event>>(capacity_);
  events_ = list_.get();
  count_ = 0;
}

schema::Event::Builder SessionWriter::Impl::append() {
  if (count_ == capacity_ ||
      (count_ > 0 && (msg_->sizeInWords() - 3 - listWords_) * 8 >= opt_.batchBytes)) {
    Status s = flush();
    if (!s.ok() && error_.ok()) error_ = s;
  }
  auto e = events_[count_++];
  e.setSeq(nextSeq_++);
  return e;
}

Status SessionWriter::Impl::flush() {
  if (closed_) return Status::error(path_ + ": writer is closed");
  if (count_ == 0) return error_;
  if (!error_.ok()) {
    // After a write error nothing more goes to the file: a frame written past a failed
    // one would leave a hole. The batch is dropped; close() ends the file.
    list_ = capnp::Orphan<capnp::List<schema::Event>>();   // while its message lives
    capacity_ = std::min<uint32_t>(opt_.batchEvents, 1024);
    startBatch();
    return error_;
  }

  auto pf = std::make_unique<PendingFrame>();
  uint32_t n = count_;
  uint64_t tMin = UINT64_MAX, tMax = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t t = events_[i].asReader().getTNs();
    tMin = std::min(tMin, t);
    tMax = std::max(tMax, t);
  }
  uint64_t firstSeq = events_[0].asReader().getSeq();
  list_.truncate(n);
  msg_->getRoot<schema::Batch>().adoptEvents(kj::mv(list_));
  // The first frame carries a copy of the file header: one damaged bit there must not
  // make every frame unreadable (the reader finds this frame by scanning).
  if (stats_.frames == 0) fillHeader(header_, msg_->getRoot<schema::Batch>().initHeader(), false);
  pf->raw = capnp::messageToFlatArray(*msg_);
  msg_.reset();
  // A recorder flushing every few ms makes small batches: size the next list to what
  // the last batch needed (twice over) rather than to the maximum.
  capacity_ = std::clamp<uint32_t>(n == capacity_ ? capacity_ * 2 : n * 2, 64, opt_.batchEvents);
  startBatch();

  auto raw = pf->raw.asBytes();
  format::FrameHeader h;
  h.type = format::kFrameBatch;
  h.rawLen = raw.size();
  h.firstSeq = firstSeq;
  h.count = n;
  h.tMin = tMin;
  h.tMax = tMax;

  size_t bound = ZSTD_compressBound(raw.size());
  pf->bytes.resize(format::kFrameHeaderSize + format::align8(std::max(bound, raw.size())));
  uint8_t* payload = pf->bytes.data() + format::kFrameHeaderSize;
  size_t z = ZSTD_compressCCtx(zstd_, payload, bound, raw.begin(), raw.size(), opt_.zstdLevel);
  if (!ZSTD_isError(z) && z < raw.size()) {
    h.flags = format::kFlagZstd;
    h.storedLen = z;
  } else {
    std::memcpy(payload, raw.begin(), raw.size());
    h.storedLen = raw.size();
  }
  size_t total = h.frameLength();
  std::memset(payload + h.storedLen, 0, total - format::kFrameHeaderSize - h.storedLen);
  pf->bytes.resize(total);
  format::encodeFrameHeader(h, pf->bytes.data());
  h.crc = format::frameCrc(pf->bytes.data(), payload, h.storedLen);
  format::encodeFrameHeader(h, pf->bytes.data());

  pf->offset = fileOffset_;
  pf->info.offset = fileOffset_;
  pf->info.length = total;
  pf->info.firstSeq = firstSeq;
  pf->info.count = n;
  pf->info.tMin = tMin;
  pf->info.tMax = tMax;
  fileOffset_ += total;
  stats_.events += n;
  stats_.frames++;
  stats_.bytesWritten += total;
  stats_.rawPayloadBytes += raw.size();

  // Backpressure: at most inFlight frames in the kernel's hands.
  while (pending_.size() >= opt_.inFlight) {
    Status s = reap(true);
    if (!s.ok()) return error_ = s;
  }
  pending_.push_back(std::move(pf));
  Status s = submit(pending_.back().get());
  if (!s.ok()) return error_ = s;
  Status r = reap(false);
  if (!r.ok()) return error_ = r;

  bytesSinceSync_ += total;
  if (opt_.fsyncEveryBytes > 0 && bytesSinceSync_ >= opt_.fsyncEveryBytes) {
    bytesSinceSync_ = 0;
#ifdef AA_HAVE_URING
    if (uring_) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe) {
        // DRAIN: the sync starts only after every earlier write completed.
        io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
        sqe->flags |= IOSQE_IO_DRAIN;
        io_uring_sqe_set_data(sqe, nullptr);
        io_uring_submit(&ring_);
        fsyncsInFlight_++;
      }
    } else
#endif
    if (syncData(fd_) != 0) return error_ = Status::error(path_ + ": fdatasync: " + errnoText(errno));
  }
  return error_;
}

Status SessionWriter::Impl::writeAllSync(const uint8_t* data, size_t len, uint64_t offset) {
  while (len > 0) {
    ssize_t w = pwrite(fd_, data, len, offset);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::error(path_ + ": write at offset " + std::to_string(offset) + ": " +
                           errnoText(errno));
    }
    data += w;
    len -= w;
    offset += w;
  }
  return {};
}

Status SessionWriter::Impl::submit(PendingFrame* f) {
#ifdef AA_HAVE_URING
  if (uring_) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    if (sqe) {
      io_uring_prep_write(sqe, fd_, f->bytes.data() + f->written, f->bytes.size() - f->written,
                          f->offset + f->written);
      io_uring_sqe_set_data(sqe, f);
      int rc = io_uring_submit(&ring_);
      if (rc >= 0) return {};
      return Status::error(path_ + ": io_uring submit: " + errnoText(-rc));
    }
  }
#endif
  Status s = writeAllSync(f->bytes.data(), f->bytes.size(), f->offset);
  f->written = s.ok() ? f->bytes.size() : 0;
  f->complete = true;   // done either way: a failed frame is not indexed
  if (!s.ok()) f->raw = nullptr;
  indexCompleted(false);
  return s;
}

Status SessionWriter::Impl::reap(bool wait) {
#ifdef AA_HAVE_URING
  if (!uring_) return {};
  Status status;
  io_uring_cqe* cqe = nullptr;
  int rc = wait ? io_uring_wait_cqe(&ring_, &cqe) : io_uring_peek_cqe(&ring_, &cqe);
  while (rc == 0 && cqe) {
    auto* f = static_cast<PendingFrame*>(io_uring_cqe_get_data(cqe));
    int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    if (!f) {
      fsyncsInFlight_--;
      if (res < 0) status = Status::error(path_ + ": fdatasync: " + errnoText(-res));
    } else if (res == -EAGAIN || res == -EINTR) {
      Status s = submit(f);
      if (!s.ok()) status = s;
    } else if (res < 0) {
      status = Status::error(path_ + ": write at offset " + std::to_string(f->offset + f->written) +
                             ": " + errnoText(-res));
      f->complete = true;   // nothing more will come for it; the frame stays unindexed
      f->raw = nullptr;
    } else {
      f->written += res;
      if (f->written < f->bytes.size()) {
        Status s = submit(f);   // short write: the rest goes at the right offset
        if (!s.ok()) status = s;
      } else {
        f->complete = true;
      }
    }
    rc = io_uring_peek_cqe(&ring_, &cqe);
  }
  if (wait && rc < 0 && rc != -EAGAIN && status.ok())
    status = Status::error(path_ + ": io_uring wait: " + errnoText(-rc));
  indexCompleted(false);
  return status;
#else
  (void)wait;
  return {};
#endif
}

void SessionWriter::Impl::indexCompleted(bool force) {
  // Frames enter the index in file order, and only once their bytes are on disk.
  while (!pending_.empty() && pending_.front()->complete) {
    auto f = std::move(pending_.front());
    pending_.pop_front();
    if (f->raw.size() == 0 || f->written != f->bytes.size()) writeFailed_ = true;
    if (writeFailed_) continue;   // past a failed frame nothing is whole or indexed
    goodEnd_ = f->offset + f->bytes.size();
    goodSeq_ = f->info.firstSeq + f->info.count;
    goodFrames_++;
    if (opt_.writeIndex && f->raw.size() > 0) {
      capnp::ReaderOptions ro;
      ro.traversalLimitInWords = f->raw.size() * 2 + 1024;
      capnp::FlatArrayMessageReader msg(f->raw, ro);
      indexer_.addFrame(f->info, msg.getRoot<schema::Batch>().getEvents());
      unpersistedFrames_++;
    }
  }
  if (!opt_.writeIndex || unpersistedFrames_ == 0) return;
  auto now = std::chrono::steady_clock::now();
  if (force || unpersistedFrames_ >= 64 || now - lastPersist_ > std::chrono::milliseconds(500)) {
    IndexMeta meta;
    meta.sessionId = header_.sessionId;
    // Until the footer is written the log may still grow: a reader that finds the
    // file larger than scannedSize treats the index as behind and rebuilds it.
    uint64_t end = indexer_.frames().empty() ? fileOffset_
                                             : indexer_.frames().back().offset +
                                                   indexer_.frames().back().length;
    meta.scannedSize = end;
    meta.logEnd = end;
    Status s = indexer_.persist(index_, meta);
    if (!s.ok()) abandonIndex(s);
    // Flat memory over hours: the frame table is in the database now.
    indexer_.forgetPersistedFrames();
    unpersistedFrames_ = 0;
    lastPersist_ = now;
  }
}

Status SessionWriter::Impl::close(SessionFooterInfo footer) {
  if (closed_) return error_;
  Status s = flush();
  // Every write in flight is waited for, failed or not: the file is not truncated or
  // ended while the kernel may still write into it.
  while (!pending_.empty() || fsyncsInFlight_ > 0) {
    size_t before = pending_.size();
    int syncsBefore = fsyncsInFlight_;
    Status r = reap(true);
    if (!r.ok() && s.ok()) s = r;
    if (!r.ok() && pending_.size() == before && fsyncsInFlight_ == syncsBefore) break;   // no progress
  }
  indexCompleted(true);
  if (!s.ok() && error_.ok()) error_ = s;
  if (!error_.ok()) {
    endAfterError(footer);
    closed_ = true;
    ::close(fd_);
    fd_ = -1;
    return error_;
  }
  if (s.ok() && error_.ok()) {
    footer.eventCount = nextSeq_;
    footer.batchCount = stats_.frames;
    if (footer.endMonoNs == 0) footer.endMonoNs = clockNs(CLOCK_MONOTONIC);
    if (footer.endWallNs == 0) footer.endWallNs = int64_t(footer.endMonoNs) + header_.clockOffsetNs;
    kj::Array<capnp::word> words = encodeFooter(footer);
    auto payload = words.asBytes();
    format::FrameHeader h;
    h.type = format::kFrameFooter;
    h.rawLen = h.storedLen = payload.size();
    h.firstSeq = nextSeq_;
    std::vector<uint8_t> bytes(h.frameLength(), 0);
    std::memcpy(bytes.data() + format::kFrameHeaderSize, payload.begin(), payload.size());
    format::encodeFrameHeader(h, bytes.data());
    h.crc = format::frameCrc(bytes.data(), bytes.data() + format::kFrameHeaderSize, payload.size());
    format::encodeFrameHeader(h, bytes.data());
    s = writeAllSync(bytes.data(), bytes.size(), fileOffset_);
    if (s.ok()) {
      fileOffset_ += bytes.size();
      stats_.bytesWritten += bytes.size();
    }
  }
  if (s.ok() && syncData(fd_) != 0) s = Status::error(path_ + ": fdatasync: " + errnoText(errno));
  if (s.ok() && opt_.writeIndex) {
    IndexMeta meta;
    meta.sessionId = header_.sessionId;
    meta.scannedSize = fileOffset_;
    meta.logEnd = fileOffset_;
    // The log's identity and last change: a reader that finds them moved checks every
    // frame's checksum before trusting this index.
    struct stat st{};
    if (fstat(fd_, &st) == 0) {
      meta.logIno = st.st_ino;
#ifdef __APPLE__
      meta.logMtimeNs = uint64_t(st.st_mtimespec.tv_sec) * 1000000000ull + st.st_mtimespec.tv_nsec;
#else
      meta.logMtimeNs = uint64_t(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
#endif
    }
    Status is = indexer_.persist(index_, meta);
    if (!is.ok()) abandonIndex(is);
    // Best effort: an index left with its WAL is still read (and rebuilt if stale).
    (void)index_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  closeIndex();
  closed_ = true;
  if (::close(fd_) != 0 && s.ok()) s = Status::error(path_ + ": close: " + errnoText(errno));
  fd_ = -1;
  if (!s.ok() && error_.ok()) error_ = s;
  return error_;
}

void SessionWriter::Impl::endAfterError(SessionFooterInfo& footer) {
  // The index (and its WAL) would be a partial cache on a full disk: readers rebuild
  // it. Removed first, so the room it took can hold the footer.
  index_ = sql::Db();
  opt_.writeIndex = false;
  for (size_t i : {0, 1, 2}) ::unlink(indexFiles(path_)[i].c_str());   // index, -wal, -shm
  // Whatever follows the whole frames (a partial frame, frames after a failed one)
  // goes: a reader then finds a file that ends cleanly, not damage.
  if (ftruncate(fd_, off_t(goodEnd_)) == 0) fileOffset_ = goodEnd_;
  stats_.keptEvents = goodSeq_;
  stats_.keptBytes = fileOffset_;
  // The footer is small, and the truncation may just have freed room for it. It says
  // the stop was not clean and counts only the events kept.
  footer.cleanStop = false;
  footer.eventCount = goodSeq_;
  footer.batchCount = goodFrames_;
  if (footer.endMonoNs == 0) footer.endMonoNs = clockNs(CLOCK_MONOTONIC);
  if (footer.endWallNs == 0) footer.endWallNs = int64_t(footer.endMonoNs) + header_.clockOffsetNs;
  if (fileOffset_ == goodEnd_) {
    kj::Array<capnp::word> words = encodeFooter(footer);
    auto payload = words.asBytes();
    format::FrameHeader h;
    h.type = format::kFrameFooter;
    h.rawLen = h.storedLen = payload.size();
    h.firstSeq = goodSeq_;
    std::vector<uint8_t> bytes(h.frameLength(), 0);
    std::memcpy(bytes.data() + format::kFrameHeaderSize, payload.begin(), payload.size());
    format::encodeFrameHeader(h, bytes.data());
    h.crc = format::frameCrc(bytes.data(), bytes.data() + format::kFrameHeaderSize, payload.size());
    format::encodeFrameHeader(h, bytes.data());
    if (writeAllSync(bytes.data(), bytes.size(), goodEnd_).ok() && syncData(fd_) == 0) {
      stats_.footerAfterError = true;
      stats_.keptBytes = goodEnd_ + bytes.size();
    } else if (ftruncate(fd_, off_t(goodEnd_)) != 0) {
      // A partial footer could not be taken back: readers report it as damage.
    }
  }
}

SessionWriter::SessionWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SessionWriter::~SessionWriter() = default;

StatusOr<std::unique_ptr<SessionWriter>> SessionWriter::create(const std::string& path,
                                                               SessionHeaderInfo header,
                                                               WriterOptions options) {
  auto impl = std::make_unique<Impl>();
  Status s = impl->open(path, std::move(header), options);
  if (!s.ok()) return s;
  return std::unique_ptr<SessionWriter>(new SessionWriter(std::move(impl)));
}

schema::Event::Builder SessionWriter::append() { return impl_->append(); }
Status SessionWriter::flush() { return impl_->flush(); }
Status SessionWriter::close(SessionFooterInfo footer) { return impl_->close(std::move(footer)); }
const Status& SessionWriter::error() const { return impl_->error_; }
const WriterStats& SessionWriter::stats() const { return impl_->stats_; }
const SessionHeaderInfo& SessionWriter::header() const { return impl_->header_; }
const std::string& SessionWriter::path() const { return impl_->path_; }
uint64_t SessionWriter::nextSeq() const { return impl_->nextSeq_; }

}  // namespace aa
