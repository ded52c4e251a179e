#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/admin/admin_services.h"
#include "engine/admin/proto_convert.h"

namespace seckill::admin {

grpc::Status AuditService::List(grpc::ServerContext* context, const v1::ListAuditRequest* req,
                                v1::ListAuditResponse* out) {
  control::AuditQuery q;
  if (req->has_since()) q.since = fromProto(req->since());
  if (req->has_until()) q.until = fromProto(req->until());
  q.author = req->author();
  if (req->page_size() < 0 || req->page_size() > 1000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_size: 0-1000 (0: 100)");
  }
  q.limit = req->page_size() == 0 ? 100 : static_cast<size_t>(req->page_size());
  if (!req->page_token().empty()) {
    uint64_t before = 0;
    if (!absl::SimpleAtoi(req->page_token(), &before)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "page_token: not a token this engine gave");
    }
    q.before_seq = before;
  }
  absl::StatusOr<control::AuditPage> page = deps_.state.audit(q);
  if (!page.ok()) return answer(*context, page.status());
  for (const control::AuditEntry& e : page->entries) *out->add_entries() = auditToProto(e);
  if (page->next_before) out->set_next_page_token(absl::StrCat(*page->next_before));
  return grpc::Status::OK;
}

}  // namespace seckill::admin
