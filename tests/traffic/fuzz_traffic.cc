// libFuzzer entry point (cmake -DAA_FUZZ=ON with clang): bytes in -> no crash, no hang.
#include "tests/traffic/fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aa::traffic::testing::fuzzOne(data, size);
  return 0;
}
