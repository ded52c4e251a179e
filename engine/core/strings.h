#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace seckill {

// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view), so absl::StrCat and heterogeneous flat_hash_map lookups
// need this explicit bridge from the std::string_view the project uses.
inline absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace seckill
