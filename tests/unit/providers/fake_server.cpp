#include "fake_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <sstream>

namespace triage::testing {
namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

Reply Http(int status, std::string body, std::string content_type,
           std::vector<std::pair<std::string, std::string>> headers) {
  std::string raw = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
  raw += "Content-Type: " + content_type + "\r\n";
  raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
  raw += "\r\n" + body;
  Reply r;
  r.raw = std::move(raw);
  return r;
}

std::string ReadFixture(const std::string& name) {
  std::ifstream in(std::string(TRIAGE_SOURCE_DIR) + "/tests/fixtures/providers/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct FakeServer::Impl {
  FakeServer& owner;
  net::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;
  std::atomic<int> index{0};

  explicit Impl(FakeServer& o) : owner(o) {}

  net::awaitable<void> Session(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(64 << 20);
      auto [ec, n] =
          co_await bhttp::async_read(socket, buffer, parser, net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      auto req = parser.release();
      SeenRequest seen;
      seen.method = std::string(req.method_string());
      seen.target = std::string(req.target());
      for (const auto& field : req) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        seen.headers[name] = std::string(field.value());
      }
      seen.body = req.body();
      {
        std::lock_guard lock(owner.mutex_);
        owner.requests_.push_back(seen);
      }
      const Reply reply = owner.script_(seen, index++);
      net::steady_timer timer(socket.get_executor());
      if (reply.delay.count() > 0) {
        timer.expires_after(reply.delay);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
      }
      if (reply.drop) co_return;
      if (reply.wait_for_close) {
        char byte;
        for (;;) {
          auto [rec, rn] = co_await socket.async_read_some(net::buffer(&byte, 1),
                                                           net::as_tuple(net::use_awaitable));
          if (rec) break;
        }
        std::lock_guard lock(owner.mutex_);
        ++owner.client_closes_;
        owner.closed_.notify_all();
        co_return;
      }
      if (reply.trickle_bytes == 0) {
        auto [wec, wn] = co_await net::async_write(socket, net::buffer(reply.raw),
                                                   net::as_tuple(net::use_awaitable));
        if (wec) co_return;
      } else {
        for (std::size_t at = 0; at < reply.raw.size(); at += reply.trickle_bytes) {
          const auto len = std::min(reply.trickle_bytes, reply.raw.size() - at);
          auto [wec, wn] = co_await net::async_write(
              socket, net::buffer(reply.raw.data() + at, len), net::as_tuple(net::use_awaitable));
          if (wec) co_return;
          timer.expires_after(reply.trickle_every);
          co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        }
      }
      if (reply.close_after) co_return;
    }
  }

  net::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      ++owner.connections_;
      net::co_spawn(io, Session(std::move(socket)), net::detached);
    }
  }
};

FakeServer::FakeServer(Script script) : script_(std::move(script)) {
  impl_ = std::make_unique<Impl>(*this);
  net::co_spawn(impl_->io, impl_->Accept(), net::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

bool FakeServer::WaitForClientClose(std::chrono::milliseconds bound) {
  std::unique_lock lock(mutex_);
  return closed_.wait_for(lock, bound, [this] { return client_closes_ > 0; });
}

FakeServer::~FakeServer() {
  impl_->io.stop();
  impl_->thread.join();
}

std::string FakeServer::BaseUrl() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

std::vector<SeenRequest> FakeServer::Requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

}  // namespace triage::testing
