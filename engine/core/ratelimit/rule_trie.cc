#include "engine/core/ratelimit/rule_trie.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "engine/core/strings.h"

namespace seckill::ratelimit {

struct RuleTrie::Node {
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> literal;
  std::unique_ptr<Node> star;
  std::vector<Entry> exact;  // patterns ending at this node
  std::vector<Entry> rest;   // patterns ending with "**" below this node
};

RuleTrie::RuleTrie() : root_(std::make_unique<Node>()) {}
RuleTrie::~RuleTrie() = default;
RuleTrie::RuleTrie(RuleTrie&&) noexcept = default;
RuleTrie& RuleTrie::operator=(RuleTrie&&) noexcept = default;

absl::Status RuleTrie::add(std::string_view pattern, const std::optional<std::string>& method,
                           uint32_t index) {
  absl::StatusOr<PathPattern> parsed = parsePathPattern(pattern);
  if (!parsed.ok()) return parsed.status();
  Node* node = root_.get();
  for (const std::string& seg : parsed->segments) {
    std::unique_ptr<Node>* child;
    if (seg == "*") {
      child = &node->star;
    } else {
      child = &node->literal[seg];
    }
    if (!*child) {
      *child = std::make_unique<Node>();
      ++nodes_;
    }
    node = child->get();
  }
  (parsed->rest ? node->rest : node->exact).push_back(Entry{index, method.value_or("")});
  return absl::OkStatus();
}

void RuleTrie::match(std::string_view method, std::string_view path, Matches* out) const {
  out->clear();
  // No rule at all (the common configuration): nothing to walk.
  if (nodes_ == 1 && root_->exact.empty() && root_->rest.empty()) return;
  path = stripQuery(path);

  struct Hit {
    uint32_t depth;
    uint32_t kind;  // 0 = "**" pattern, 1 = exact
    uint32_t index;
  };
  absl::InlinedVector<Hit, 8> hits;
  uint32_t depth = 0;
  auto collect = [&](const std::vector<Entry>& entries, uint32_t kind) {
    for (const Entry& e : entries) {
      if (e.method.empty() || e.method == method) hits.push_back(Hit{depth, kind, e.index});
    }
  };

  // The nodes matching the path so far, and those matching one segment more: two buffers
  // used in turn (swapping the pointers, not the inline contents).
  absl::InlinedVector<const Node*, 4> buffers[2];
  absl::InlinedVector<const Node*, 4>* cur = &buffers[0];
  absl::InlinedVector<const Node*, 4>* next = &buffers[1];
  cur->push_back(root_.get());
  size_t pos = 0;
  while (true) {
    for (const Node* n : *cur) collect(n->rest, 0);
    while (pos < path.size() && path[pos] == '/') ++pos;
    if (pos >= path.size()) break;
    size_t end = std::min(path.find('/', pos), path.size());
    std::string_view seg = path.substr(pos, end - pos);
    pos = end;
    next->clear();
    for (const Node* n : *cur) {
      if (!n->literal.empty()) {
        if (auto it = n->literal.find(av(seg)); it != n->literal.end()) {
          next->push_back(it->second.get());
        }
      }
      if (n->star) next->push_back(n->star.get());
    }
    std::swap(cur, next);
    ++depth;
    if (cur->empty()) break;
  }
  if (pos >= path.size()) {
    for (const Node* n : *cur) collect(n->exact, 1);
  }
  // Hits arrive grouped by (depth, kind); order by rule position within each group.
  auto before = [](const Hit& a, const Hit& b) {
    return std::tie(a.depth, a.kind, a.index) < std::tie(b.depth, b.kind, b.index);
  };
  if (!std::is_sorted(hits.begin(), hits.end(), before)) std::sort(hits.begin(), hits.end(), before);
  for (const Hit& h : hits) out->push_back(h.index);
}

}  // namespace seckill::ratelimit
