// What every fuzz target shares: an invariant that must hold for every input. A broken one
// prints what was expected and aborts, so libFuzzer keeps the input as a crash.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

inline std::string_view FuzzText(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
