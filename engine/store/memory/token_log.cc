#include "engine/store/memory/token_log.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <atomic>
#include <string>

#include "absl/random/random.h"

namespace seckill {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void appendHex64(std::string& out, uint64_t v) {
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 0xF]);
}

bool parseHex64(std::string_view s, uint64_t& out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

std::atomic<uint64_t> next_log_id{1};

// This thread's HMAC-SHA256 context, keyed for the log `id` (one slot per thread: the engine
// has one log; a thread alternating between logs re-keys). nullptr if OpenSSL failed.
EVP_MAC_CTX* threadMac(uint64_t id, const std::string& key) {
  struct Slot {
    uint64_t id = 0;
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = nullptr;
    ~Slot() {
      EVP_MAC_CTX_free(ctx);
      EVP_MAC_free(mac);
    }
  };
  thread_local Slot slot;
  if (slot.id == id && slot.ctx != nullptr) return slot.ctx;
  EVP_MAC_CTX_free(slot.ctx);
  slot.ctx = slot.mac != nullptr ? EVP_MAC_CTX_new(slot.mac) : nullptr;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (slot.ctx == nullptr ||
      EVP_MAC_init(slot.ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params) != 1) {
    ERR_clear_error();
    EVP_MAC_CTX_free(slot.ctx);
    slot.ctx = nullptr;
    slot.id = 0;
    return nullptr;
  }
  slot.id = id;
  return slot.ctx;
}

std::string randomKey() {
  absl::BitGen gen;  // seeded from the OS's entropy
  std::string key(32, '\0');
  for (char& c : key) c = static_cast<char>(absl::Uniform<uint8_t>(gen));
  return key;
}

}  // namespace

TokenLog::TokenLog()
    : key_(randomKey()), id_(next_log_id.fetch_add(1, std::memory_order_relaxed)) {}

bool TokenLog::tag(uint64_t serial, std::string_view sale, std::string_view user,
                   uint64_t& out) const {
  std::string data;
  data.reserve(8 + sale.size() + 1 + user.size());
  for (int shift = 56; shift >= 0; shift -= 8) data.push_back(static_cast<char>(serial >> shift));
  data.append(sale);
  data.push_back('\x1f');
  data.append(user);
  EVP_MAC_CTX* ctx = threadMac(id_, key_);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t n = 0;
  // Re-initialised with the key it holds (a NULL key keeps it): no copy per tag.
  if (ctx == nullptr || EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx, mac, &n, sizeof mac) != 1 || n < 8) {
    ERR_clear_error();
    return false;  // no token is valid then: refused, never accepted
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | mac[i];
  out = v;
  return true;
}

std::string TokenLog::issue(std::string_view sale, std::string_view user, absl::Time now,
                            absl::Time expires) {
  // Each thread goes round the shards on its own: no counter shared by every issuer.
  thread_local size_t next_shard = 0;
  const size_t index = next_shard++ % kShards;
  Shard& shard = shards_[index];
  uint64_t serial;
  {
    absl::MutexLock lock(&shard.mu);
    const int64_t now_ns = absl::ToUnixNanos(now);
    if (now_ns >= shard.next_sweep_ns) {
      // Expired tokens leave from the front (one still in flight, or one expiring later, keeps
      // those behind it until it goes).
      while (!shard.slots.empty() && shard.slots.front().expires_ns <= now_ns &&
             shard.slots.front().state != kInFlight) {
        shard.other_ids.erase(shard.first * kShards + index);
        shard.slots.pop_front();
        ++shard.first;
      }
      if (shard.slots.empty()) shard.slots.shrink_to_fit();
      shard.next_sweep_ns = absl::ToUnixNanos(now + absl::Seconds(1));
    }
    serial = (shard.first + shard.slots.size()) * kShards + index;
    shard.slots.push_back(Slot{.expires_ns = absl::ToUnixNanos(expires), .state = kFresh});
  }
  uint64_t t;
  if (!tag(serial, sale, user, t)) return {};
  std::string token;
  token.reserve(32);
  appendHex64(token, serial);
  appendHex64(token, t);
  return token;
}

TokenLog::Use TokenLog::begin(std::string_view token, std::string_view sale,
                              std::string_view user, absl::Time now, bool start) {
  Use use;
  uint64_t serial, presented, expected;
  if (token.size() != 32 || !parseHex64(token.substr(0, 16), serial) ||
      !parseHex64(token.substr(16), presented) || !tag(serial, sale, user, expected) ||
      // Not a secret comparison worth timing: the tag is checked before any state is read.
      presented != expected) {
    return use;
  }
  use.serial = serial;
  Shard& shard = shards_[serial % kShards];
  const uint64_t position = serial / kShards;
  absl::MutexLock lock(&shard.mu);
  if (position < shard.first || position - shard.first >= shard.slots.size()) return use;
  Slot& slot = shard.slots[position - shard.first];
  if (absl::ToUnixNanos(now) >= slot.expires_ns) return use;
  if (slot.state == kInFlight) {
    use.kind = Begin::kInFlight;
  } else if (slot.state != kFresh) {
    use.kind = Begin::kUsed;
    use.answer = slot.state;
    if ((slot.state & kPayloadMask) == kOtherId) {
      auto it = shard.other_ids.find(serial);
      if (it != shard.other_ids.end()) use.other_id = it->second;
    }
  } else {
    use.kind = Begin::kStarted;
    if (start) slot.state = kInFlight;
  }
  return use;
}

void TokenLog::finish(uint64_t serial, uint64_t answer, std::string_view other_id) {
  Shard& shard = shards_[serial % kShards];
  const uint64_t position = serial / kShards;
  absl::MutexLock lock(&shard.mu);
  if (position < shard.first || position - shard.first >= shard.slots.size()) return;
  shard.slots[position - shard.first].state = answer;
  if (answer != kFresh && (answer & kPayloadMask) == kOtherId) {
    shard.other_ids.insert_or_assign(serial, std::string(other_id));
  }
}

size_t TokenLog::size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    n += shard.slots.size();
  }
  return n;
}

}  // namespace seckill
