#pragma once

// Reading a config or rule file whole, with the errors both name the same way.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace seckill::config {

// The bytes of `path`. NotFound "<path>: cannot open <what>: No such file or directory" when it
// does not exist, FailedPrecondition "<path>: cannot open|read <what>: <strerror>" otherwise.
absl::StatusOr<std::string> readTextFile(const std::string& path, std::string_view what);

}  // namespace seckill::config
