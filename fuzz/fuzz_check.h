// SPDX-License-Identifier: Apache-2.0

// FUZZ_CHECK(cond, what): a property every input must satisfy. A violation prints
// what was expected and aborts, which libFuzzer records as a crash (and saves the
// input), exactly like a sanitizer finding.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                                   \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  (%s)\n", __FILE__, __LINE__, what, \
                   #cond);                                                                       \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)
