// libFuzzer target: arbitrary bytes as a session file (see reader_fuzz_one.h).
//   cmake -DAA_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang ...
//   ./reader_fuzz -max_total_time=60 CORPUS_DIR
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/reader_fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aa::fuzz::readSessionBytes(data, size);
  return 0;
}
