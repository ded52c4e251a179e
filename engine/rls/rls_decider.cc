#include "engine/rls/rls_decider.h"

#include <memory>
#include <utility>
#include <vector>

namespace seckill::rls {

// One request being decided: what it maps to, where it has got to, and whom to tell.
struct RlsDecider::Run {
  const envoy_rls::RateLimitRequest* request;
  envoy_rls::RateLimitResponse* response;
  Callback<absl::Status> done;
  std::vector<DescriptorQuery> queries;
  size_t next = 0;
  bool over_limit = false;
};

RlsDecider::RlsDecider(RlsDeps deps, MappingOptions options)
    : deps_(std::move(deps)), options_(std::move(options)) {}

void RlsDecider::decide(const envoy_rls::RateLimitRequest& request,
                        envoy_rls::RateLimitResponse* response, Callback<absl::Status> done) const {
  auto run = std::make_unique<Run>(Run{&request, response, std::move(done), {}, 0, false});
  if (absl::Status s = mapRequest(request, options_, &run->queries); !s.ok()) {
    requests_invalid_.add();
    std::move(run->done)(std::move(s));
    return;
  }
  response->Clear();
  auto* statuses = response->mutable_statuses();
  statuses->Reserve(static_cast<int>(run->queries.size()));
  for (size_t i = 0; i < run->queries.size(); ++i) statuses->Add();
  resume(std::move(run));
}

void RlsDecider::resume(std::unique_ptr<Run> run) const {
  while (run->next < run->queries.size()) {
    const size_t index = run->next++;
    ratelimit::Evaluation e =
        deps_.limiter.evaluate(run->queries[index].info(), deps_.clock.now());
    if (e.remote != nullptr) {
      // A distributed rule: the backend answers, then the run goes on from the next descriptor
      // (a local queue rule's wait is not served: the service cannot delay).
      deps_.limiter.complete(std::move(e.remote),
                             [this, run = std::move(run), index](ratelimit::Verdict v) mutable {
                               record(*run, index, v);
                               resume(std::move(run));
                             });
      return;
    }
    record(*run, index, e.verdict);
  }
  finish(*run);
}

void RlsDecider::record(Run& run, size_t index, const ratelimit::Verdict& v) const {
  toStatus(v, run.response->mutable_statuses(static_cast<int>(index)));
  if (isOverLimit(v)) {
    run.over_limit = true;
    descriptors_over_limit_.add();
    return;
  }
  descriptors_ok_.add();
  if (v.shadowed || v.kind == ratelimit::Verdict::kShadow) {
    descriptors_shadow_.add();
    if (deps_.on_shadow) deps_.on_shadow(v);
  }
}

void RlsDecider::finish(Run& run) const {
  run.response->set_overall_code(run.over_limit ? envoy_rls::RateLimitResponse::OVER_LIMIT
                                                : envoy_rls::RateLimitResponse::OK);
  (run.over_limit ? requests_over_limit_ : requests_ok_).add();
  std::move(run.done)(absl::OkStatus());
}

RlsStats RlsDecider::stats() const {
  return RlsStats{
      .requests_ok = requests_ok_.value(),
      .requests_over_limit = requests_over_limit_.value(),
      .requests_invalid = requests_invalid_.value(),
      .descriptors_ok = descriptors_ok_.value(),
      .descriptors_over_limit = descriptors_over_limit_.value(),
      .descriptors_shadow = descriptors_shadow_.value(),
  };
}

}  // namespace seckill::rls
