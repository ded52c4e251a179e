#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

// The invariant checks of the fuzz targets: a violated one prints what broke and aborts, which
// libFuzzer reports as a crash (keeping the input) and the replay test as a failure.
#define FUZZ_CHECK(cond, ...)                                                           \
  do {                                                                                  \
    if (!(cond)) ::seckill::fuzz::failed(__FILE__, __LINE__, #cond, std::string_view(__VA_ARGS__)); \
  } while (0)

namespace seckill::fuzz {

[[noreturn]] inline void failed(const char* file, int line, const char* cond,
                                std::string_view detail) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n  %.*s\n", file, line, cond,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace seckill::fuzz
