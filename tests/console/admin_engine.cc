#include "tests/console/admin_engine.h"

#include <sys/stat.h>

#include "tests/e2e/engine_process.h"

namespace seckill::console::testing {
namespace {

constexpr char kOperatorToken[] = "console-op-0123456789abcdef";
constexpr char kViewerToken[] = "console-view-0123456789abcd";

}  // namespace

struct AdminEngine::Impl {
  e2e::TempDir dir;
  e2e::EngineProcess process;
};

AdminEngine::AdminEngine() : impl_(std::make_unique<Impl>()) {
  tokens_ = impl_->dir.write("tokens", std::string(kOperatorToken) + " operator ops\n" +
                                           kViewerToken + " viewer watcher\n");
  ::chmod(tokens_.c_str(), 0600);
  admin_port_ = seckill::testing::freeLoopbackPort();
}

AdminEngine::~AdminEngine() = default;

::testing::AssertionResult AdminEngine::start(const std::string& body, const std::string& node) {
  const std::string admin = "[admin]\nlisten = \"127.0.0.1:" + std::to_string(admin_port_) +
                            "\"\ntokens = \"" + tokens_ + "\"\nnode_id = \"" + node + "\"\n\n";
  body_ = body;
  return impl_->process.start(admin + body);
}

::testing::AssertionResult AdminEngine::stop() { return impl_->process.stop(); }

void AdminEngine::signal(int sig) { impl_->process.signal(sig); }

EngineAddress AdminEngine::address(Role role) const {
  EngineAddress a;
  a.target = QStringLiteral("127.0.0.1:%1").arg(admin_port_);
  a.token = QString::fromLatin1(role == Role::kOperator ? kOperatorToken : kViewerToken);
  return a;
}

uint16_t AdminEngine::httpPort() const { return impl_->process.port(); }

std::string AdminEngine::stderrText() const { return impl_->process.stderrText(); }

OrderStorm::OrderStorm(uint16_t http_port, std::string sale, int threads) {
  for (int t = 0; t < threads; ++t) {
    threads_.emplace_back([this, http_port, sale, t] {
      http::testing::TestClient client(http_port, std::chrono::seconds(2));
      for (int64_t n = 0; !stop_.load(); ++n) {
        const std::string user = "storm-" + std::to_string(t) + "-" + std::to_string(n);
        const http::testing::Reply r = client.post("/api/v1/sales/" + sale + "/orders", user);
        if (r.status == 0) client.connect();
        answered_.fetch_add(1);
      }
    });
  }
}

OrderStorm::~OrderStorm() { stop(); }

void OrderStorm::stop() {
  stop_.store(true);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace seckill::console::testing
