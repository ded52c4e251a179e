#pragma once

// A tiny stand-in for seckill-engine's shopper API, for the runner's tests:
// a Beast HTTP/1.1 keep-alive server on 127.0.0.1:0, one thread.
//  - POST /api/v1/sales/{sale}/orders: 201 for a user without an order,
//    409 for a repeat, 410 once the stock is gone; with `oversell`, that many
//    extra 201s after the stock is gone (the bug the checks must catch); with
//    `allow_repeats`, a repeat user gets another 201 (a dedup bug);
//  - POST /api/v1/sales/{sale}/tokens, POST /api/v1/orders/{id}/pay,
//    GET /api/v1/orders/{id}, GET /api/v1/sales/{sale}, GET /metrics;
//  - with `order_delay`, every order answer waits that long (a stalled engine);
//  - with `close_after`, a connection is closed after that many answers, without a
//    `Connection: close` (as an engine whose idle timeout fired between two requests).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace seckill::load::testing {

class FakeEngine {
 public:
  struct Config {
    std::string sale = "fake";
    int64_t stock = 50;
    int64_t oversell = 0;
    bool allow_repeats = false;
    std::chrono::milliseconds order_delay{0};
    int close_after = 0;  // 0: never
  };

  explicit FakeEngine(Config config) : config_(std::move(config)), stock_left_(config_.stock) {
    namespace asio = boost::asio;
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~FakeEngine() {
    ioc_.stop();
    thread_.join();
  }

  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  int64_t created() {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(orders_.size());
  }
  int64_t paid() {
    std::lock_guard lock(mu_);
    return paid_;
  }
  int64_t ordersWithToken() {
    std::lock_guard lock(mu_);
    return with_token_;
  }

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  struct Order {
    std::string user;
    bool paid = false;
  };

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(FakeEngine& engine, boost::asio::ip::tcp::socket socket)
        : engine_(engine), stream_(std::move(socket)), timer_(stream_.get_executor()) {}

    void read() {
      req_ = {};
      boost::beast::http::async_read(
          stream_, buffer_, req_, [self = shared_from_this()](boost::beast::error_code ec, size_t) {
            if (ec) return;
            self->res_ = self->engine_.handle(self->req_);
            const auto delay = self->engine_.config_.order_delay;
            if (delay.count() == 0 || !self->req_.target().ends_with("/orders")) {
              return self->write();
            }
            self->timer_.expires_after(delay);
            self->timer_.async_wait([self](boost::beast::error_code e) {
              if (!e) self->write();
            });
          });
    }

   private:
    void write() {
      res_.keep_alive(req_.keep_alive());
      res_.prepare_payload();
      boost::beast::http::async_write(
          stream_, res_, [self = shared_from_this()](boost::beast::error_code ec, size_t) {
            if (ec || !self->req_.keep_alive()) return;
            const int close_after = self->engine_.config_.close_after;
            if (close_after > 0 && ++self->answers_ >= close_after) {
              self->stream_.close();
              return;
            }
            self->read();
          });
    }

    FakeEngine& engine_;
    boost::beast::tcp_stream stream_;
    boost::asio::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    Request req_;
    Response res_;
    int answers_ = 0;
  };

  void accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      std::make_shared<Session>(*this, std::move(s))->read();
      accept();
    });
  }

  static Response answer(int status, std::string body) {
    Response res{static_cast<boost::beast::http::status>(status), 11};
    res.set(boost::beast::http::field::content_type,
            body.starts_with('{') ? "application/json" : "text/plain; version=0.0.4");
    res.body() = std::move(body);
    return res;
  }

  Response handle(const Request& req) {
    using boost::beast::http::verb;
    std::lock_guard lock(mu_);
    const std::string target(req.target());
    const std::string user(req["X-User-Id"]);
    const std::string sale_path = "/api/v1/sales/" + config_.sale;
    const bool post = req.method() == verb::post;
    if (target == sale_path && !post) {
      return answer(200,
                    absl::StrCat(R"({"id":")", config_.sale, R"(","name":"Fake","stock_total":)",
                                 config_.stock, R"(,"stock_left":)", stock_left_,
                                 R"(,"state":"open","opens_at":null,"closes_at":null})"));
    }
    if (target == sale_path + "/tokens" && post) {
      return answer(200, absl::StrCat(R"({"token":"tok-)", ++tokens_, R"(","expires_in_s":300})"));
    }
    if (target == sale_path + "/orders" && post) {
      if (user.empty()) return answer(400, R"({"error":"invalid_user_id"})");
      if (users_.contains(user) && !config_.allow_repeats) {
        return answer(409, R"({"error":"duplicate"})");
      }
      if (stock_left_ > 0) {
        --stock_left_;
      } else if (oversold_ < config_.oversell) {
        ++oversold_;
      } else {
        return answer(410, R"({"error":"sold_out"})");
      }
      if (!req["Idempotency-Key"].empty()) ++with_token_;
      const std::string id = absl::StrCat("ord-", orders_.size() + 1);
      orders_[id] = Order{.user = user};
      users_[user] = id;
      return answer(201, absl::StrCat(R"({"order_id":")", id, R"(","sale_id":")", config_.sale,
                                      R"(","user_id":")", user,
                                      R"(","state":"pending_payment","pay_before":null})"));
    }
    if (target.starts_with("/api/v1/orders/")) {
      std::string id = target.substr(15);
      const bool pay = post && id.ends_with("/pay");
      if (pay) id.resize(id.size() - 4);
      auto it = orders_.find(id);
      if (it == orders_.end()) return answer(404, R"({"error":"unknown_order"})");
      if (it->second.user != user) return answer(403, R"({"error":"forbidden"})");
      if (pay && !it->second.paid) {
        it->second.paid = true;
        ++paid_;
      }
      return answer(200, absl::StrCat(R"({"order_id":")", id, R"(","state":")",
                                      it->second.paid ? "paid" : "pending_payment", R"("})"));
    }
    if (target == "/metrics" && !post) {
      const int64_t all = static_cast<int64_t>(orders_.size());
      return answer(200, absl::StrCat("seckill_orders{state=\"pending_payment\"} ", all - paid_,
                                      "\nseckill_orders{state=\"paid\"} ", paid_,
                                      "\nseckill_orders{state=\"cancelled\"} 0\n"));
    }
    return answer(404, R"({"error":"not_found"})");
  }

  Config config_;
  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  uint16_t port_ = 0;
  std::thread thread_;

  std::mutex mu_;
  int64_t stock_left_;
  int64_t oversold_ = 0;
  int64_t tokens_ = 0;
  int64_t paid_ = 0;
  int64_t with_token_ = 0;
  std::map<std::string, Order> orders_;
  std::map<std::string, std::string> users_;
};

}  // namespace seckill::load::testing
