// The ELF symbol lookup that decides where the TLS uprobes go: real files, and files
// that are not ELF or are damaged (no crash, no bogus offsets past the file).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "recorder/tls_capture.h"

namespace aa {
namespace {

namespace fs = std::filesystem;

const char* kLibssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3";

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class TlsElfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aa-tls-elf-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  fs::path dir_;
};

TEST_F(TlsElfTest, SharedLibsslDefinesAllFive) {
  if (!fs::exists(kLibssl)) GTEST_SKIP() << "needs " << kLibssl;
  auto offs = tlsSymbolOffsets(kLibssl);
  ASSERT_TRUE(offs.ok()) << offs.status().message();
  const auto size = fs::file_size(kLibssl);
  for (uint64_t o : *offs) {
    EXPECT_GT(o, 0u);
    EXPECT_LT(o, size);
  }
  EXPECT_NE((*offs)[0], (*offs)[2]);  // SSL_write and SSL_read differ
}

// OpenSSL linked into an executable, found in its .symtab (nothing is exported).
TEST_F(TlsElfTest, OpenSslLinkedIntoAnExecutable) {
  auto offs = tlsSymbolOffsets(AA_TEST_TLS_STATIC);
  ASSERT_TRUE(offs.ok()) << offs.status().message();
  for (uint64_t o : *offs) EXPECT_GT(o, 0u);
  EXPECT_NE((*offs)[0], (*offs)[2]);  // SSL_write and SSL_read differ
}

TEST_F(TlsElfTest, ProgramsWithoutOpenSslHaveNone) {
  for (const char* p : {"/bin/true", "/bin/sh"}) {
    auto offs = tlsSymbolOffsets(p);
    ASSERT_TRUE(offs.ok()) << p;
    for (uint64_t o : *offs) EXPECT_EQ(o, 0u) << p;
  }
}

TEST_F(TlsElfTest, NotElfAndMissing) {
  auto text = tlsSymbolOffsets(write("text", "#!/bin/sh\necho hi\n"));
  ASSERT_TRUE(text.ok());
  for (uint64_t o : *text) EXPECT_EQ(o, 0u);
  auto empty = tlsSymbolOffsets(write("empty", ""));
  ASSERT_TRUE(empty.ok());
  auto missing = tlsSymbolOffsets((dir_ / "missing").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos);
}

TEST_F(TlsElfTest, TruncatedAndCorruptedCopiesAreSafe) {
  if (!fs::exists(kLibssl)) GTEST_SKIP() << "needs " << kLibssl;
  const std::string lib = readAll(kLibssl);
  // truncated at many points: section headers live at the end, so mostly "none"
  for (size_t cut = 0; cut < lib.size(); cut += lib.size() / 37 + 1) {
    auto offs = tlsSymbolOffsets(write("cut", lib.substr(0, cut)));
    ASSERT_TRUE(offs.ok());
    for (uint64_t o : *offs) EXPECT_LT(o, cut + 1);
  }
  // random byte damage: any answer is fine as long as offsets stay inside the file
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    std::string bad = lib;
    for (int k = 0; k < 64; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    // and the ELF header's section table fields, which the lookup trusts most
    for (size_t k = 0x28; k < 0x40; ++k)
      if (rng() % 4 == 0) bad[k] = static_cast<char>(rng());
    auto offs = tlsSymbolOffsets(write("bad", bad));
    ASSERT_TRUE(offs.ok());
    for (uint64_t o : *offs) EXPECT_LT(o, bad.size());
  }
}

}  // namespace
}  // namespace aa
