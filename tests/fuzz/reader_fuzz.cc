// libFuzzer target: arbitrary bytes as a session file (see reader_fuzz_one.h).
//   cmake -DAA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang ...
//   ./reader_fuzz -max_total_time=60 CORPUS_DIR
// With AA_FUZZ_FIX_CRC=1 in the environment every checksum is made right before the
// bytes are read, so mutations reach the frame and event decoders instead of failing
// the CRC check (the mode that really fuzzes event decoding).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tests/fuzz/reader_fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool fixCrc = [] {
    const char* v = std::getenv("AA_FUZZ_FIX_CRC");
    return v && *v && *v != '0';
  }();
  if (fixCrc) aa::fuzz::readSessionBytesFixed(data, size);
  else aa::fuzz::readSessionBytes(data, size);
  return 0;
}
