#include "engine/config/text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace seckill::config {

absl::StatusOr<std::string> readTextFile(const std::string& path, std::string_view what) {
  const absl::string_view what_av(what.data(), what.size());
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    std::string message = absl::StrCat(path, ": cannot open ", what_av, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::FailedPreconditionError(message);
  }
  std::string text;
  char buf[64 * 1024];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  const int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot read ", what_av, ": ", std::strerror(err)));
  }
  return text;
}

}  // namespace seckill::config
