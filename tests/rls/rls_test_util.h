#pragma once

// Builders for Envoy RateLimitRequests and a synchronous call of the decider, shared by the
// rate-limit service's tests.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/rls/rls_decider.h"
#include "envoy/service/ratelimit/v3/rls.pb.h"

namespace seckill::rls::testing {

using Request = envoy_rls::RateLimitRequest;
using Response = envoy_rls::RateLimitResponse;
using DescriptorStatus = envoy_rls::RateLimitResponse::DescriptorStatus;

// One descriptor: its entries, in order, and optionally its own hits_addend.
struct Desc {
  std::vector<std::pair<std::string, std::string>> entries;
  std::optional<uint64_t> hits;
};

inline Request request(const std::string& domain, const std::vector<Desc>& descriptors,
                       uint32_t hits_addend = 0) {
  Request r;
  r.set_domain(domain);
  r.set_hits_addend(hits_addend);
  for (const Desc& d : descriptors) {
    auto* out = r.add_descriptors();
    for (const auto& [k, v] : d.entries) {
      auto* e = out->add_entries();
      e->set_key(k);
      e->set_value(v);
    }
    if (d.hits) out->mutable_hits_addend()->set_value(*d.hits);
  }
  return r;
}

// The decider's answer when it answers inline (no distributed rule waiting on a backend).
struct Answer {
  bool answered = false;
  absl::Status status;
  Response response;
};
inline Answer decideNow(const RlsDecider& decider, const Request& r) {
  Answer a;
  decider.decide(r, &a.response, [&a](absl::Status s) {
    a.answered = true;
    a.status = std::move(s);
  });
  return a;
}

}  // namespace seckill::rls::testing
