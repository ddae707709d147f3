// AA_CHECK: a bug check that stays on in release builds (NDEBUG does not remove it).
// For what cannot happen unless the code is wrong; an expected failure (bad file,
// missing permission) is a returned aa::Status instead.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AA_CHECK(cond)                                                             \
  do {                                                                             \
    if (!(cond)) [[unlikely]] {                                                    \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)
