// Decoder on synthetic ring-buffer records: no BPF, no root.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <random>
#include <filesystem>
#include <string>
#include <vector>

#include "recorder/decoder.h"
#include "tests/recorder/record_util.h"

extern "C" {
#include "bpf/events.h"
}

namespace fs = std::filesystem;
using namespace std::string_literals;
using aa::Kind;

namespace {

// A record: the fixed struct T, then `data`; header filled, size set.
template <typename T>
std::vector<uint8_t> rec(T fixed, uint16_t type, uint32_t pid, const std::string& data = "") {
  fixed.h.ts_ns = 1000 + pid;
  fixed.h.pid = pid;
  fixed.h.tid = pid;
  fixed.h.type = type;
  fixed.h.size = uint32_t(sizeof(T) + data.size());
  std::memcpy(fixed.h.comm, "tester", 7);
  std::vector<uint8_t> out(sizeof(T) + data.size());
  std::memcpy(out.data(), &fixed, sizeof(T));
  std::memcpy(out.data() + sizeof(T), data.data(), data.size());
  return out;
}

class DecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("aa-decoder-test-" + std::to_string(getpid()) + ".aas")).string();
    aa::WriterOptions o;
    o.useIoUring = false;
    auto w = aa::SessionWriter::create(path_, aa::SessionHeaderInfo{}, o);
    ASSERT_TRUE(w.ok()) << w.status().message();
    writer_ = std::move(*w);
    decoder_ = std::make_unique<aa::Decoder>(*writer_);
  }
  void TearDown() override {
    decoder_.reset();
    writer_.reset();
    fs::remove(path_);
    fs::remove(path_ + "-index");
  }
  void feed(const std::vector<uint8_t>& r) { decoder_->decode(r.data(), r.size()); }
  std::vector<aa::test::Ev> finish() {
    EXPECT_TRUE(writer_->close().ok());
    auto reader = aa::SessionReader::open(path_);
    EXPECT_TRUE(reader.ok()) << reader.status().message();
    return reader.ok() ? aa::test::readEvents(**reader) : std::vector<aa::test::Ev>{};
  }

  std::string path_;
  std::unique_ptr<aa::SessionWriter> writer_;
  std::unique_ptr<aa::Decoder> decoder_;
};

TEST_F(DecoderTest, ExecPathsArgvAndTruncation) {
  aa_rec_exec e{};
  std::string path = "python3.11\0bin\0usr\0"s, cwd = "proj\0home\0"s, argv = "python3\0agent.py\0"s;
  e.path_len = uint16_t(path.size());
  e.cwd_len = uint16_t(cwd.size());
  e.argv_len = uint16_t(argv.size());
  e.ppid = 1;
  e.uid = 1000;
  e.exe_dev = (8u << 20) | 1;
  e.exe_ino = 123456789012ULL;
  uint32_t execed = 0;
  aa::ExecutedImage image;
  decoder_->onExec = [&](uint32_t pid, const aa::ExecutedImage& i) {
    execed = pid;
    image = i;
  };
  feed(rec(e, AA_REC_EXEC, 42, path + cwd + argv));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, Kind::kExec);
  EXPECT_EQ(evs[0].path, "/usr/bin/python3.11");
  EXPECT_EQ(evs[0].cwd, "/home/proj");
  EXPECT_EQ(evs[0].argv, (std::vector<std::string>{"python3", "agent.py"}));
  EXPECT_EQ(evs[0].comm, "tester");
  EXPECT_EQ(execed, 42u);
  // the identity TlsCapture checks a file at the path against
  EXPECT_EQ(image.path, "/usr/bin/python3.11");
  EXPECT_EQ(image.kernelDev, (8u << 20) | 1);
  EXPECT_EQ(image.ino, 123456789012ULL);
}

TEST_F(DecoderTest, OpenRelativeToBaseThenCloseCarriesPath) {
  aa_rec_file_op op{};
  std::string user = "../data/x.txt\0"s, base = "src\0proj\0"s;
  op.op = AA_OP_OPEN;
  op.ret = 3;
  op.file = 0xffff888812345678ull;
  op.fd = -1;
  op.path1_len = uint16_t(user.size());
  op.base1_len = uint16_t(base.size());
  feed(rec(op, AA_REC_FILE_OP, 7, user + base));
  aa_rec_close c{};
  c.file = op.file;
  c.bytes_written = 11;
  c.writes = 2;
  c.fd = 3;
  c.reason = AA_CLOSE_REPLACED;
  feed(rec(c, AA_REC_CLOSE, 7));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].path, "/proj/data/x.txt");
  EXPECT_EQ(evs[0].ret, 3);
  EXPECT_EQ(evs[1].kind, Kind::kFileClose);
  EXPECT_EQ(evs[1].path, "/proj/data/x.txt");
  EXPECT_EQ(evs[1].bytesWritten, 11u);
  EXPECT_EQ(evs[1].reason, aa::schema::CloseReason::REPLACED);
}

TEST_F(DecoderTest, AdoptedFileNamesLaterIo) {
  aa_rec_adopt a{};
  std::string walked = "out.log\0tmp\0"s;
  a.file = 99;
  a.fd = 1;
  a.path_len = uint16_t(walked.size());
  feed(rec(a, AA_REC_ADOPT, 5, walked));
  aa_rec_io io{};
  io.file = 99;
  io.fd = 1;
  io.ret = 4;
  io.write = 1;
  feed(rec(io, AA_REC_IO, 5));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 1u) << "adoption itself is not an event";
  EXPECT_EQ(evs[0].kind, Kind::kFileWrite);
  EXPECT_EQ(evs[0].path, "/tmp/out.log");
}

TEST_F(DecoderTest, RenameAndSymlink) {
  aa_rec_file_op op{};
  std::string p1 = "/a/b\0"s, p2 = "c\0"s, b2 = "d\0"s;
  op.op = AA_OP_RENAME;
  op.path1_len = uint16_t(p1.size());
  op.path2_len = uint16_t(p2.size());
  op.base2_len = uint16_t(b2.size());
  feed(rec(op, AA_REC_FILE_OP, 1, p1 + p2 + b2));
  aa_rec_file_op s{};
  std::string target = "../x\0"s, link = "/l\0"s;
  s.op = AA_OP_SYMLINK;
  s.path1_len = uint16_t(target.size());
  s.path2_len = uint16_t(link.size());
  feed(rec(s, AA_REC_FILE_OP, 1, target + link));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].path, "/a/b");
  EXPECT_EQ(evs[0].path2, "/d/c");
  EXPECT_EQ(evs[1].kind, Kind::kFileSymlink);
  EXPECT_EQ(evs[1].path, "/l");
  EXPECT_EQ(evs[1].path2, "../x") << "a link target is kept as passed";
}

TEST_F(DecoderTest, HardLinkPathsResolvedLikeRename) {
  // linkat(dirfd, "a", AT_FDCWD, "/abs/b", AT_SYMLINK_FOLLOW): the old name relative to
  // its dirfd's walk, the new one absolute as passed.
  aa_rec_file_op op{};
  std::string p1 = "a\0"s, b1 = "sub\0dir\0"s, p2 = "/abs/b\0"s;
  op.op = AA_OP_LINK;
  op.flags = 0x400;
  op.path1_len = uint16_t(p1.size());
  op.base1_len = uint16_t(b1.size());
  op.path2_len = uint16_t(p2.size());
  feed(rec(op, AA_REC_FILE_OP, 1, p1 + b1 + p2));
  // A failed link(2) with both names relative to the cwd.
  aa_rec_file_op bad{};
  std::string q1 = "../x\0"s, c1 = "d\0w\0"s, q2 = "y\0"s, c2 = "d\0w\0"s;
  bad.op = AA_OP_LINK;
  bad.ret = -17;
  bad.path1_len = uint16_t(q1.size());
  bad.base1_len = uint16_t(c1.size());
  bad.path2_len = uint16_t(q2.size());
  bad.base2_len = uint16_t(c2.size());
  feed(rec(bad, AA_REC_FILE_OP, 2, q1 + c1 + q2 + c2));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].kind, Kind::kFileLink);
  EXPECT_EQ(evs[1].kind, Kind::kFileLink);
  EXPECT_EQ(aa::kindName(evs[0].kind), "file.link");
  EXPECT_EQ(evs[0].path, "/dir/sub/a");
  EXPECT_EQ(evs[0].path2, "/abs/b");
  EXPECT_EQ(evs[1].path, "/w/x");
  EXPECT_EQ(evs[1].path2, "/w/d/y");
  EXPECT_EQ(evs[0].flags, 0x400u);
  EXPECT_EQ(evs[0].ret, 0);
  EXPECT_EQ(evs[1].ret, -17);
}

TEST_F(DecoderTest, ChownByPathFdAndDirfdKeepsIdsAsPassed) {
  // fchownat(dirfd, "f", 1000, -1, AT_SYMLINK_NOFOLLOW): relative to the dirfd's walk;
  // the unchanged group ((gid_t)-1) reads back as -1.
  aa_rec_file_op at{};
  std::string p1 = "f\0"s, b1 = "sub\0dir\0"s;
  at.op = AA_OP_CHOWN;
  at.mode = 1000;
  at.arg = 0xffffffff;
  at.flags = 0x100;
  at.fd = -1;
  at.path1_len = uint16_t(p1.size());
  at.base1_len = uint16_t(b1.size());
  feed(rec(at, AA_REC_FILE_OP, 1, p1 + b1));
  // fchown(3, -1, 50): the path is the fd's file, walked.
  aa_rec_file_op byFd{};
  std::string w = "g\0t\0"s;
  byFd.op = AA_OP_CHOWN;
  byFd.mode = 0xffffffff;
  byFd.arg = 50;
  byFd.fd = 3;
  byFd.base1_len = uint16_t(w.size());
  feed(rec(byFd, AA_REC_FILE_OP, 1, w));
  // A failed chown(2) of an absolute path: -EPERM kept.
  aa_rec_file_op bad{};
  std::string q = "/etc/x\0"s;
  bad.op = AA_OP_CHOWN;
  bad.ret = -1;
  bad.fd = -1;
  bad.path1_len = uint16_t(q.size());
  feed(rec(bad, AA_REC_FILE_OP, 2, q));
  // An opcode past the last one is malformed, not a chown.
  aa_rec_file_op junk = bad;
  junk.op = AA_OP_CHOWN + 1;
  feed(rec(junk, AA_REC_FILE_OP, 2, q));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(aa::kindName(evs[0].kind), "file.chown");
  EXPECT_EQ(evs[0].path, "/dir/sub/f");
  EXPECT_EQ(evs[0].fd, -1);
  EXPECT_EQ(evs[0].uid, 1000);
  EXPECT_EQ(evs[0].gid, -1);
  EXPECT_EQ(evs[0].flags, 0x100u);
  EXPECT_EQ(evs[0].ret, 0);
  EXPECT_EQ(evs[1].kind, Kind::kFileChown);
  EXPECT_EQ(evs[1].path, "/t/g");
  EXPECT_EQ(evs[1].fd, 3);
  EXPECT_EQ(evs[1].uid, -1);
  EXPECT_EQ(evs[1].gid, 50);
  EXPECT_EQ(evs[2].path, "/etc/x");
  EXPECT_EQ(evs[2].uid, 0);
  EXPECT_EQ(evs[2].ret, -1);
  EXPECT_EQ(decoder_->stats().malformed, 1u);
}

TEST_F(DecoderTest, UnixConnectKeepsPathToNulAndAbstractNameWhole) {
  aa_rec_connect c{};
  c.family = 1;  // AF_UNIX as Linux numbers it
  // A path name, then the stack bytes the kernel copied up to the caller's addrlen.
  std::string path = "/run/x.sock\0\xaa\xbbjunk"s;
  c.addr_len = uint16_t(path.size());
  feed(rec(c, AA_REC_CONNECT, 1, path));
  // An abstract name: leading NUL kept, exactly addrlen bytes, inner NULs included.
  std::string abstract = "\0name\0x"s;
  c.addr_len = uint16_t(abstract.size());
  feed(rec(c, AA_REC_CONNECT, 1, abstract));
  // An IPv4 address may contain NUL bytes: left alone.
  aa_rec_connect in{};
  in.family = 2;
  in.port = 80;
  std::string ip = "\x7f\0\0\x01"s;
  in.addr_len = 4;
  feed(rec(in, AA_REC_CONNECT, 1, ip));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].kind, Kind::kNetConnect);
  EXPECT_EQ(evs[0].path, "/run/x.sock");
  EXPECT_EQ(evs[1].path, abstract);
  EXPECT_EQ(evs[2].path, ip);
  EXPECT_EQ(evs[2].port, 80);
}

TEST_F(DecoderTest, ExitStatusAndSignal) {
  aa_rec_exit e{};
  e.code = 3 << 8;
  feed(rec(e, AA_REC_EXIT, 10));
  e.code = 9;  // SIGKILL
  feed(rec(e, AA_REC_EXIT, 11));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].exitCode, 3);
  EXPECT_EQ(evs[0].signal, 0);
  EXPECT_EQ(evs[1].signal, 9);
}

TEST_F(DecoderTest, MalformedRecordsAreCountedNotDecoded) {
  aa_rec_file_op op{};
  op.op = AA_OP_OPEN;
  op.path1_len = 4000;  // more than the record holds
  auto r = rec(op, AA_REC_FILE_OP, 1, "short");
  feed(r);
  feed(std::vector<uint8_t>(8, 0));  // shorter than a header
  aa_rec_file_op bad{};
  bad.op = 77;
  feed(rec(bad, AA_REC_FILE_OP, 1));
  EXPECT_EQ(decoder_->stats().malformed, 3u);
  aa_rec_fork f{};
  f.child = 12;
  feed(rec(f, AA_REC_FORK, 1));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].child, 12u);
}

TEST_F(DecoderTest, UnknownTypeIsNotClaimed) {
  aa_rec_fork f{};
  auto r = rec(f, 150, 1);
  EXPECT_FALSE(decoder_->decode(r.data(), r.size()));
  EXPECT_EQ(decoder_->stats().unknown, 1u);
}

}  // namespace

namespace {

TEST_F(DecoderTest, ChdirToRootIsSlash) {
  aa_rec_file_op op{};
  op.op = AA_OP_CHDIR;
  op.fd = -1;
  feed(rec(op, AA_REC_FILE_OP, 3));  // success: no user string, empty walk
  auto evs = finish();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kind, Kind::kChdir);
  EXPECT_EQ(evs[0].path, "/");
}

}  // namespace

namespace {

// Garbage from the ring (a kernel/userspace layout mismatch) must be counted, never
// crash the recorder or write past a record.
TEST_F(DecoderTest, RandomRecordsNeverCrash) {
  std::mt19937 rng(42);
  uint64_t decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> r(sizeof(aa_rec_header) + rng() % 200);
    for (auto& b : r) b = uint8_t(rng());
    aa_rec_header h;
    std::memcpy(&h, r.data(), sizeof(h));
    h.type = uint16_t(1 + rng() % 8);
    h.size = uint32_t(rng() % 2 ? r.size() : rng() % 400);
    std::memcpy(r.data(), &h, sizeof(h));
    feed(r);
    ++decoded;
  }
  const auto& st = decoder_->stats();
  EXPECT_EQ(st.records + st.malformed, decoded);
  EXPECT_GT(st.malformed, 0u);
  auto evs = finish();
  EXPECT_LE(evs.size(), st.records);
}

}  // namespace

namespace {

TEST_F(DecoderTest, CutWalksStayRelativeAndFlagged) {
  // A rename whose new name's base walk was cut (AA_F_PATH2_TRUNCATED): the old path
  // stays absolute, the new one is the relative tail, the event flagged.
  aa_rec_file_op op{};
  std::string user1 = "/abs/old\0"s, user2 = "../new\0"s, base2 = "d70\0d69\0d68\0"s;
  op.op = AA_OP_RENAME;
  op.fd = -1;
  op.path1_len = uint16_t(user1.size());
  op.path2_len = uint16_t(user2.size());
  op.base2_len = uint16_t(base2.size());
  auto r = rec(op, AA_REC_FILE_OP, 9, user1 + user2 + base2);
  reinterpret_cast<aa_rec_file_op*>(r.data())->h.flags = AA_F_PATH2_TRUNCATED;
  feed(r);
  // An open below a cut base, then its close: both relative, both flagged.
  aa_rec_file_op o{};
  std::string user = "f\0"s, base = "d70\0d69\0"s;
  o.op = AA_OP_OPEN;
  o.ret = 4;
  o.file = 0x1234;
  o.fd = -1;
  o.flags = 0;       // O_RDONLY: the mode register's value is not kept
  o.mode = 0777;
  o.path1_len = uint16_t(user.size());
  o.base1_len = uint16_t(base.size());
  auto ro = rec(o, AA_REC_FILE_OP, 9, user + base);
  reinterpret_cast<aa_rec_file_op*>(ro.data())->h.flags = AA_F_PATH_TRUNCATED;
  feed(ro);
  aa_rec_close c{};
  c.file = 0x1234;
  c.fd = 4;
  feed(rec(c, AA_REC_CLOSE, 9));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].path, "/abs/old");
  EXPECT_EQ(evs[0].path2, "d68/d69/new") << "'..' within the tail; the top stays unknown";
  EXPECT_TRUE(evs[0].pathTruncated);
  EXPECT_EQ(evs[1].path, "d69/d70/f");
  EXPECT_TRUE(evs[1].pathTruncated);
  EXPECT_EQ(evs[1].mode, 0u);
  EXPECT_EQ(evs[2].path, "d69/d70/f");
  EXPECT_TRUE(evs[2].pathTruncated);
}

TEST_F(DecoderTest, ExecFilenameIsResolvedAgainstTheCwd) {
  aa_rec_exec e{};
  std::string path = "dash\0bin\0usr\0"s, cwd = "w\0tmp\0"s, argv = "/bin/sh\0./s.sh\0x\0"s,
              filename = "./s.sh\0"s;
  e.path_len = uint16_t(path.size());
  e.cwd_len = uint16_t(cwd.size());
  e.argv_len = uint16_t(argv.size());
  e.filename_len = uint16_t(filename.size());
  feed(rec(e, AA_REC_EXEC, 5, path + cwd + argv + filename));
  auto evs = finish();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].path, "/usr/bin/dash");
  EXPECT_EQ(evs[0].filename, "/tmp/w/s.sh");
  EXPECT_FALSE(evs[0].pathTruncated);
}

}  // namespace
