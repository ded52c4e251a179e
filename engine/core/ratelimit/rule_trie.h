#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "engine/core/ratelimit/rule.h"

namespace seckill::ratelimit {

// `path` without its "?query" or "#fragment".
inline std::string_view stripQuery(std::string_view path) {
  // Two memchr scans (vectorized) rather than one loop testing two bytes each.
  for (const char c : {'?', '#'}) {
    if (path.empty()) break;
    if (const void* at = std::memchr(path.data(), c, path.size())) {
      path = path.substr(0, static_cast<size_t>(static_cast<const char*>(at) - path.data()));
    }
  }
  return path;
}

// Rules hung on a trie of path segments. Each node has literal children (a hash map), one "*"
// child and the rules of patterns ending there: `exact` (no "**") and `rest` (ending in "**").
//
// Matching a request path (split on '/', empty segments and any "?query" ignored) walks every
// trie path that matches it: at each depth both the literal child and the "*" child are
// followed. A pattern without "**" matches only paths of exactly its length; "p/**" matches p
// itself and everything beneath it. The cost depends on the request's depth and on the rules
// that match, not on how many rules hang on other branches.
//
// Order of the matches, which is the order in which rules are evaluated ("root down"):
// by the pattern's depth (segments before any "**"), then "**" patterns before exact ones at
// the same depth (the broader first), then by the rule's position in the set.
// Immutable after building; matching is thread-safe.
class RuleTrie {
 public:
  using Matches = absl::InlinedVector<uint32_t, 8>;

  RuleTrie();
  ~RuleTrie();
  RuleTrie(RuleTrie&&) noexcept;
  RuleTrie& operator=(RuleTrie&&) noexcept;

  // Adds rule number `index` for `pattern` (as validated by parsePathPattern) and `method`
  // (nullopt = any).
  absl::Status add(std::string_view pattern, const std::optional<std::string>& method,
                   uint32_t index);

  // Replaces *out with the indexes of the rules matching (method, path), in evaluation order.
  void match(std::string_view method, std::string_view path, Matches* out) const;

  size_t nodes() const { return nodes_; }

 private:
  struct Entry {
    uint32_t index;
    std::string method;  // empty = any
  };
  struct Node;

  std::unique_ptr<Node> root_;
  size_t nodes_ = 1;
};

}  // namespace seckill::ratelimit
