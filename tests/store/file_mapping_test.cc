// FileMapping (store/file_mapping.h): a mapping whose file shrinks reads zeros past the new
// end instead of dying of SIGBUS and says so; a SIGBUS that is not ours still gets what
// it got before (the previous handler, or the default action). Cases that could end the
// process run in a child (death tests).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "random_events.h"
#include "store/file_mapping.h"

namespace aa {
namespace {

class Mapping : public ::testing::Test {
 protected:
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
  }
  // An unlinked file of `size` bytes of `fill`, open read-write (the test keeps this
  // descriptor to cut the file with): nothing is left behind, even by a child that dies.
  int file(const std::string& name, size_t size, char fill = 'x') {
    std::string p = test::tempPath("mapped_" + name);
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0) << p;
    ::unlink(p.c_str());
    std::string bytes(size, fill);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    fds_.push_back(fd);
    return fd;
  }
  // A mapping of the whole file, through a descriptor of its own.
  static FileMapping mapWhole(int fd) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0);
    auto m = FileMapping::map(::dup(fd), uint64_t(st.st_size), "test file");
    EXPECT_TRUE(m.ok()) << m.status().message();
    return std::move(m).value();
  }
  static void cut(int fd, off_t to) { ASSERT_EQ(::ftruncate(fd, to), 0); }
  // Reads every byte (volatile: the compiler must not skip the loads).
  static uint64_t sum(const FileMapping& m) {
    uint64_t s = 0;
    const volatile uint8_t* b = m.data();
    for (uint64_t i = 0; i < m.size(); ++i) s += b[i];
    return s;
  }

  std::vector<int> fds_;
  const size_t page_ = size_t(sysconf(_SC_PAGESIZE));
};

TEST_F(Mapping, ReadsTheFileAndTakesTheDescriptor) {
  const int p = file("plain", 3 * page_ + 5);
  FileMapping m = mapWhole(p);
  EXPECT_EQ(m.size(), 3 * page_ + 5);
  EXPECT_EQ(sum(m), uint64_t('x') * m.size());
  EXPECT_FALSE(m.faulted());
  EXPECT_FALSE(m.shrank());
  EXPECT_EQ(m.validUpTo(), m.size());
  const int fd = m.fd();
  EXPECT_GE(fcntl(fd, F_GETFD), 0);
  m = FileMapping();
  EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "the descriptor is closed with the mapping";
}

TEST_F(Mapping, AnEmptyFileMapsNothing) {
  const int p = file("empty", 0);
  FileMapping m = mapWhole(p);
  EXPECT_EQ(m.data(), nullptr);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.shrank());
}

TEST_F(Mapping, ABadDescriptorIsAnErrorNamingTheFile) {
  auto m = FileMapping::map(-1, 100, "/some/where.aas");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message().rfind("/some/where.aas: cannot map: ", 0), 0u) << m.status().message();
}

TEST_F(Mapping, TruncatedReadsZerosAndIsMarked) {
  const int p = file("cut", 8 * page_, '\x11');
  const int q = file("kept", 8 * page_, '\x22');
  FileMapping m = mapWhole(p);
  FileMapping other = mapWhole(q);
  cut(p, off_t(2 * page_ + 100));
  EXPECT_TRUE(m.shrank()) << "known from the size alone, before any fault";
  EXPECT_FALSE(m.faulted());
  EXPECT_EQ(m.validUpTo(), 2 * page_ + 100);
  // before the cut: the file; after it: zeros (the kernel's in the last page, ours past it)
  EXPECT_EQ(sum(m), uint64_t(0x11) * (2 * page_ + 100));
  EXPECT_TRUE(m.faulted());
  EXPECT_EQ(m.data()[m.size() - 1], 0);
  EXPECT_FALSE(other.faulted()) << "another mapping is not marked";
  EXPECT_EQ(sum(other), uint64_t(0x22) * other.size());
  // the file grows back: the pages that faulted stay zeros, and say so
  cut(p, off_t(8 * page_));
  EXPECT_EQ(m.validUpTo(), 3 * page_) << "the first page past the old end was replaced";
  EXPECT_TRUE(m.shrank());
  // a moved mapping keeps its mark; a new mapping of the same file starts clean
  FileMapping moved = std::move(m);
  EXPECT_TRUE(moved.faulted());
  FileMapping again = mapWhole(p);
  EXPECT_FALSE(again.faulted());
}

TEST_F(Mapping, ACutInsideTheLastPageIsSeenWithoutAFault) {
  const int p = file("tail", 2 * page_);
  FileMapping m = mapWhole(p);
  cut(p, off_t(2 * page_ - 10));
  EXPECT_EQ(sum(m), uint64_t('x') * (2 * page_ - 10));
  EXPECT_FALSE(m.faulted()) << "the last page is still the file's";
  EXPECT_TRUE(m.shrank());
}

TEST_F(Mapping, ManyThreadsFaultingOnTheirOwnMappings) {
  constexpr int kThreads = 8;
  std::vector<int> paths;
  std::vector<FileMapping> maps;
  for (int t = 0; t < kThreads; ++t) paths.push_back(file("t" + std::to_string(t), 16 * page_));
  for (const auto& p : paths) maps.push_back(mapWhole(p));
  for (int t = 0; t < kThreads; t += 2) cut(paths[t], 0);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round)
        if (sum(maps[t]) != (t % 2 ? uint64_t('x') * 16 * page_ : 0)) bad++;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(maps[t].faulted(), t % 2 == 0) << t;
}

TEST_F(Mapping, SlotsAreReusedAfterRelease) {
  const int p = file("reuse", page_);
  for (int i = 0; i < 3 * FileMapping::kMaxMappings; ++i) {
    FileMapping m = mapWhole(p);
    ASSERT_FALSE(m.faulted()) << "a released slot kept its mark, round " << i;
  }
  // threads claiming and releasing at once
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto m = FileMapping::map(::dup(p), page_, "test file");
        if (!m.ok() || m->faulted() || m->data()[0] != 'x') failed++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
}

// A SIGBUS on memory that is not a FileMapping's, with a handler installed before ours:
// that handler gets it.
int gPreviousSaw = 0;
void previousHandler(int, siginfo_t* info, void*) {
  gPreviousSaw = info->si_code > 0 ? 1 : 2;
  _exit(42);
}

TEST_F(Mapping, AFaultElsewhereGoesToThePreviousHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");   // a fresh process: our handler not yet in
  const int p = file("foreign", 4 * page_);
  EXPECT_EXIT(
      {
        struct sigaction sa {};
        sa.sa_sigaction = previousHandler;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGBUS, &sa, nullptr);
        const int q = file("ours", page_);
        FileMapping ours = mapWhole(q);   // installs our handler over the previous one
        auto* raw = static_cast<volatile uint8_t*>(mmap(nullptr, 4 * page_, PROT_READ, MAP_SHARED, p, 0));
        cut(p, 0);
        (void)raw[3 * page_];   // not a FileMapping's: SIGBUS
        _exit(0);
      },
      ::testing::ExitedWithCode(42), "");
}

TEST_F(Mapping, AFaultElsewhereStillKillsWithoutAPreviousHandler) {
  const int p = file("fatal", 4 * page_);
  EXPECT_EXIT(
      {
        const int q = file("ours2", page_);
        FileMapping ours = mapWhole(q);
        auto* raw = static_cast<volatile uint8_t*>(mmap(nullptr, 4 * page_, PROT_READ, MAP_SHARED, p, 0));
        cut(p, 0);
        (void)raw[3 * page_];
        _exit(0);
      },
      ::testing::KilledBySignal(SIGBUS), "");
  // a SIGBUS sent (not a fault) is not taken for ours either
  EXPECT_EXIT(
      {
        const int q = file("ours3", page_);
        FileMapping ours = mapWhole(q);
        ::kill(getpid(), SIGBUS);
        _exit(0);
      },
      ::testing::KilledBySignal(SIGBUS), "");
}

}  // namespace
}  // namespace aa
