#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/hash/hash.h"
#include "engine/core/strings.h"

namespace seckill {

// A string in 24 bytes, for the embedded stores' per-order records: up to 23 characters are
// held inline (every user id the load generator makes, most real ones); a longer one is one
// heap block of exactly its length. std::string is 32 bytes and keeps only 15 inline.
class CompactString {
 public:
  static constexpr size_t kInline = 23;

  CompactString() = default;
  explicit CompactString(std::string_view s) { assign(s); }
  CompactString(const CompactString& o) : CompactString(o.view()) {}
  CompactString(CompactString&& o) noexcept {
    std::memcpy(bytes_, o.bytes_, sizeof bytes_);
    o.bytes_[kInline] = 0;  // o no longer owns the heap block
  }
  CompactString& operator=(const CompactString& o) {
    if (this != &o) {
      CompactString copy(o);
      swap(copy);
    }
    return *this;
  }
  CompactString& operator=(CompactString&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(bytes_, o.bytes_, sizeof bytes_);
      o.bytes_[kInline] = 0;
    }
    return *this;
  }
  ~CompactString() { release(); }

  std::string_view view() const {
    if (onHeap()) {
      Heap h;
      std::memcpy(&h, bytes_, sizeof h);
      return {h.data, h.size};
    }
    return {bytes_, static_cast<size_t>(bytes_[kInline])};
  }
  bool empty() const { return view().empty(); }
  void swap(CompactString& o) noexcept {
    char tmp[sizeof bytes_];
    std::memcpy(tmp, bytes_, sizeof bytes_);
    std::memcpy(bytes_, o.bytes_, sizeof bytes_);
    std::memcpy(o.bytes_, tmp, sizeof bytes_);
  }

  friend bool operator==(const CompactString& a, const CompactString& b) {
    return a.view() == b.view();
  }
  template <class H>
  friend H AbslHashValue(H h, const CompactString& s) {
    return H::combine(std::move(h), s.view());
  }

 private:
  static constexpr char kHeapTag = static_cast<char>(0xFF);
  struct Heap {
    char* data;
    size_t size;
  };
  bool onHeap() const { return bytes_[kInline] == kHeapTag; }
  void assign(std::string_view s) {
    if (s.size() <= kInline) {
      std::memcpy(bytes_, s.data(), s.size());
      bytes_[kInline] = static_cast<char>(s.size());
      return;
    }
    Heap h{new char[s.size()], s.size()};
    std::memcpy(h.data, s.data(), s.size());
    std::memcpy(bytes_, &h, sizeof h);
    bytes_[kInline] = kHeapTag;
  }
  void release() {
    if (!onHeap()) return;
    Heap h;
    std::memcpy(&h, bytes_, sizeof h);
    delete[] h.data;
    bytes_[kInline] = 0;
  }

  char bytes_[kInline + 1]{};  // zeroed: copies of the unused tail are then defined
};
static_assert(sizeof(CompactString) == 24);

// Heterogeneous lookup of CompactString keys by std::string_view (absl containers).
struct CompactStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return absl::HashOf(av(s)); }
  size_t operator()(const CompactString& s) const { return absl::HashOf(av(s.view())); }
};
struct CompactStringEq {
  using is_transparent = void;
  static std::string_view v(std::string_view s) { return s; }
  static std::string_view v(const CompactString& s) { return s.view(); }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return v(a) == v(b);
  }
};

}  // namespace seckill
