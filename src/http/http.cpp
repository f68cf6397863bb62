#include "http/http.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

namespace triage::http {
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

Response JsonResponse(const Request& request, Status status, std::string json) {
  Response res{status, request.version()};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(request.keep_alive());
  res.body() = std::move(json);
  res.prepare_payload();
  return res;
}

Response ErrorResponse(const Request& request, Status status, std::string_view code,
                       std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return JsonResponse(request, status,
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response GoneResponse(const Request& request) {
  auto res = ErrorResponse(request, Status::service_unavailable, "shutting_down",
                           "the service is shutting down; retry");
  res.set(boost::beast::http::field::retry_after, "2");
  return res;
}

struct Server::State : std::enable_shared_from_this<State> {
  net::io_context& io;
  ServerOptions options;
  Handler handler;
  // The acceptor lives on a strand: Stop() closes it from any thread while Accept() waits on it.
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> in_flight{0};
  State(net::io_context& io, ServerOptions o, Handler h)
      : io(io), options(std::move(o)), handler(std::move(h)), acceptor(net::make_strand(io)) {}

  // After an error response to a request that is still arriving: read and drop the rest
  // (bounded in bytes and time) before closing. Closing with unread bytes makes the kernel
  // send a reset, and a client that writes its whole body before reading -- curl, Python's
  // urllib and requests -- would see "broken pipe" instead of the response it was sent.
  static net::awaitable<void> DrainRequest(beast::tcp_stream& stream) {
    constexpr std::size_t kMaxDrainBytes = 64 << 20;
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::seconds(10));
    std::array<char, 64 * 1024> scratch;
    for (std::size_t total = 0; total < kMaxDrainBytes;) {
      auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), kTuple);
      if (ec) break;
      total += n;
    }
  }

  // `self` keeps the state (options, handler) alive while the connection is open, which may be
  // past the Server's destruction.
  net::awaitable<void> Session(std::shared_ptr<State> self, beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(16 * 1024);
      stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (!ec && !parser.is_done()) {
        // A client that asked before sending its body (curl does above 1 MiB) goes ahead now;
        // one whose declared length is over the limit already has its 413 above.
        if (const auto expect = parser.get()[bhttp::field::expect];
            beast::iequals(expect, "100-continue")) {
          bhttp::response<bhttp::empty_body> go_on{Status::continue_, 11};
          co_await bhttp::async_write(stream, go_on, kTuple);
        }
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      }
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
          ec == net::error::eof || ec == net::error::connection_reset)
        break;
      if (ec) {
        Request req(bhttp::verb::unknown, "/", 11);
        req.keep_alive(false);
        const bool too_big = ec == bhttp::error::body_limit;
        auto res = too_big ? ErrorResponse(req, Status::payload_too_large, "body_too_large",
                                           "request body exceeds " +
                                               std::to_string(options.max_body_bytes) + " bytes")
                           : ErrorResponse(req, Status::bad_request, "bad_request",
                                           "malformed HTTP request: " + ec.message());
        stream.expires_after(std::chrono::seconds(5));
        auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
        if (!wec) co_await DrainRequest(stream);
        break;
      }
      Request req = parser.release();
      Response res;
      // Counted until the answer is written, however the handler or the write ends.
      struct Counted {
        std::atomic<std::size_t>& n;
        explicit Counted(std::atomic<std::size_t>& n) : n(n) { ++n; }
        ~Counted() { --n; }
      } counted{in_flight};
      try {
        res = co_await handler(req);
      } catch (const std::exception& e) {
        spdlog::error("http handler for {} failed: {}", std::string(req.target()), e.what());
        res = ErrorResponse(req, Status::internal_server_error, "internal", "internal error");
      }
      if (stopping) res.keep_alive(false);  // the client goes elsewhere for its next request
      stream.expires_after(options.idle_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      if (wec || !res.keep_alive()) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  net::awaitable<void> Accept() {
    auto self = shared_from_this();
    while (acceptor.is_open()) {
      auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(io), kTuple);
      if (ec) {
        if (ec == net::error::operation_aborted) break;
        continue;
      }
      auto executor = socket.get_executor();
      net::co_spawn(executor, Session(self, beast::tcp_stream(std::move(socket))),
                    [](std::exception_ptr e) {
                      if (!e) return;
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& ex) {
                        spdlog::warn("http session ended: {}", ex.what());
                      }
                    });
    }
  }
};

Server::Server(net::io_context& io, ServerOptions options, Handler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {}

Server::~Server() { Stop(); }

void Server::Start() {
  auto& acc = state_->acceptor;
  tcp::endpoint endpoint(net::ip::make_address(state_->options.address), state_->options.port);
  acc.open(endpoint.protocol());
  acc.set_option(net::socket_base::reuse_address(true));
  acc.bind(endpoint);
  acc.listen(net::socket_base::max_listen_connections);
  net::co_spawn(state_->acceptor.get_executor(), state_->Accept(), net::detached);
}

void Server::Stop() {
  state_->stopping = true;
  net::post(state_->acceptor.get_executor(), [state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
  });
}

unsigned short Server::Port() const { return state_->acceptor.local_endpoint().port(); }

std::size_t Server::InFlight() const { return state_->in_flight; }

namespace {

template <class Stream>
net::awaitable<ClientResponse> Exchange(Stream& stream, const ClientRequest& r, const Url& url) {
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(r.method), url.target, 11);
  req.set(bhttp::field::host, url.host);
  req.set(bhttp::field::user_agent, "triage");
  for (const auto& [k, v] : r.headers) req.set(k, v);
  req.body() = r.body;
  req.prepare_payload();
  ClientResponse out;
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
  if (wec) {
    out.error = "write: " + wec.message();
    co_return out;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(8 * 1024 * 1024);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
  if (rec) {
    out.error = "read: " + rec.message();
    co_return out;
  }
  auto res = parser.release();
  out.status = res.result_int();
  out.body = std::move(res.body());
  if (auto it = res.find(bhttp::field::retry_after); it != res.end())
    out.retry_after = std::string(it->value());
  co_return out;
}

net::ssl::context& TlsContext() {
  static net::ssl::context tls_context = [] {
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(net::ssl::verify_peer);
    return ctx;
  }();
  return tls_context;
}

}  // namespace

net::awaitable<ClientResponse> Send(ClientRequest request) {
  ClientResponse failed;
  const auto url = ParseUrl(request.url);
  if (!url) {
    failed.error = "invalid url";
    co_return failed;
  }
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(url->host, url->port, kTuple);
  if (rec) {
    failed.error = "resolve " + url->host + ": " + rec.message();
    co_return failed;
  }
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_after(request.timeout);
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kTuple);
  if (cec) {
    failed.error = "connect: " + cec.message();
    co_return failed;
  }
  if (!url->tls) {
    auto out = co_await Exchange(tcp_stream, request, *url);
    beast::error_code ignored;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return out;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), TlsContext());
  if (!SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str())) {
    failed.error = "tls: cannot set SNI";
    co_return failed;
  }
  stream.set_verify_callback(net::ssl::host_name_verification(url->host));
  auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::client, kTuple);
  if (hec) {
    failed.error = "tls handshake: " + hec.message();
    co_return failed;
  }
  auto out = co_await Exchange(stream, request, *url);
  co_await stream.async_shutdown(kTuple);
  co_return out;
}

// ---- pooled client ---------------------------------------------------------------------

namespace {

struct PooledConn {
  const void* context = nullptr;  // the io_context the socket belongs to
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;
  beast::tcp_stream& Lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

std::string PoolKey(const Url& url) {
  return (url.tls ? "https://" : "http://") + url.host + ":" + url.port;
}

// Fills `out` from one exchange on `stream`; returns whether a byte of the response arrived.
template <class Stream>
net::awaitable<bool> PooledExchange(Stream& stream, beast::flat_buffer& buffer,
                                    const ClientRequest& r, const Url& url, std::size_t body_limit,
                                    ClientResponse& out, bool& keep_alive) {
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(r.method), url.target, 11);
  req.set(bhttp::field::host, url.host);
  req.set(bhttp::field::user_agent, "triage");
  for (const auto& [k, v] : r.headers) req.set(k, v);
  req.body() = r.body;
  req.keep_alive(true);
  req.prepare_payload();
  keep_alive = false;
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
  if (wec) {
    out.cancelled = wec == net::error::operation_aborted;
    out.timed_out = wec == beast::error::timeout;
    out.error = "write: " + wec.message();
    co_return false;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(body_limit);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
  if (rec) {
    const bool got_some = parser.got_some();
    out.cancelled = rec == net::error::operation_aborted;
    out.timed_out = rec == beast::error::timeout;
    out.truncated = rec == bhttp::error::partial_message ||
                    (parser.is_header_done() && !parser.is_done() && !out.timed_out);
    if (parser.is_header_done()) out.status = parser.get().result_int();
    out.error = "read: " + rec.message();
    co_return got_some;
  }
  auto res = parser.release();
  out.status = res.result_int();
  out.body = std::move(res.body());
  if (auto it = res.find(bhttp::field::retry_after); it != res.end())
    out.retry_after = std::string(it->value());
  if (auto it = res.find(bhttp::field::content_type); it != res.end())
    out.content_type = std::string(it->value());
  for (const char* name : {"x-request-id", "request-id"})
    if (auto it = res.find(name); it != res.end()) out.request_id = std::string(it->value());
  keep_alive = res.keep_alive();
  co_return true;
}

}  // namespace

struct ClientPool::State {
  PoolOptions options;
  mutable std::mutex mutex;
  std::map<std::string, std::vector<std::unique_ptr<PooledConn>>> idle;
  std::size_t idle_count = 0;
  std::atomic<std::size_t> opened{0};

  // An idle connection of `context` (sockets cannot move between io_contexts).
  std::unique_ptr<PooledConn> Take(const std::string& key, const void* context) {
    std::lock_guard lock(mutex);
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    const auto now = std::chrono::steady_clock::now();
    auto& list = it->second;
    for (auto c = list.rbegin(); c != list.rend();) {
      if (now - (*c)->idle_since >= options.idle_ttl) {  // stale: drop it
        c = decltype(c)(list.erase(std::next(c).base()));
        --idle_count;
        continue;
      }
      if ((*c)->context == context) {
        auto conn = std::move(*c);
        list.erase(std::next(c).base());
        --idle_count;
        return conn;
      }
      ++c;
    }
    return nullptr;
  }
  void Give(const std::string& key, std::unique_ptr<PooledConn> conn) {
    conn->idle_since = std::chrono::steady_clock::now();
    conn->Lowest().expires_never();
    std::lock_guard lock(mutex);
    auto& list = idle[key];
    if (list.size() >= options.max_idle_per_host) return;  // closed on destruction
    list.push_back(std::move(conn));
    ++idle_count;
  }
};

ClientPool::ClientPool(PoolOptions options) : state_(std::make_shared<State>()) {
  state_->options = options;
}
ClientPool::~ClientPool() = default;

std::size_t ClientPool::Idle() const {
  std::lock_guard lock(state_->mutex);
  return state_->idle_count;
}
std::size_t ClientPool::Opened() const { return state_->opened; }

net::awaitable<ClientResponse> ClientPool::Send(const ClientRequest& request,
                                                std::chrono::steady_clock::time_point deadline) {
  ClientResponse failed;
  const auto url = ParseUrl(request.url);
  if (!url) {
    failed.error = "invalid url";
    co_return failed;
  }
  const auto key = PoolKey(*url);
  auto executor = co_await net::this_coro::executor;
  for (int round = 0; round < 2; ++round) {
    const void* context = &executor.context();
    auto conn = round == 0 ? state_->Take(key, context) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      tcp::resolver resolver(executor);
      auto [rec, endpoints] = co_await resolver.async_resolve(url->host, url->port, kTuple);
      if (rec) {
        failed.cancelled = rec == net::error::operation_aborted;
        failed.error = "resolve " + url->host + ": " + rec.message();
        co_return failed;
      }
      auto tcp_stream = std::make_unique<beast::tcp_stream>(executor);
      tcp_stream->expires_at(deadline);
      auto [cec, ep] = co_await tcp_stream->async_connect(endpoints, kTuple);
      if (cec) {
        failed.cancelled = cec == net::error::operation_aborted;
        failed.timed_out = cec == beast::error::timeout;
        failed.error = "connect: " + cec.message();
        co_return failed;
      }
      tcp_stream->socket().set_option(tcp::no_delay(true));
      ++state_->opened;
      conn = std::make_unique<PooledConn>();
      conn->context = context;
      if (!url->tls) {
        conn->plain = std::move(tcp_stream);
      } else {
        conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*tcp_stream),
                                                                           TlsContext());
        if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), url->host.c_str())) {
          failed.error = "tls: cannot set SNI";
          co_return failed;
        }
        conn->tls->set_verify_callback(net::ssl::host_name_verification(url->host));
        auto [hec] = co_await conn->tls->async_handshake(net::ssl::stream_base::client, kTuple);
        if (hec) {
          failed.cancelled = hec == net::error::operation_aborted;
          failed.timed_out = hec == beast::error::timeout;
          failed.error = "tls handshake: " + hec.message();
          co_return failed;
        }
      }
    }
    conn->Lowest().expires_at(deadline);
    ClientResponse out;
    bool keep_alive = false;
    const bool got_some =
        conn->plain ? co_await PooledExchange(*conn->plain, conn->buffer, request, *url,
                                              state_->options.max_body_bytes, out, keep_alive)
                    : co_await PooledExchange(*conn->tls, conn->buffer, request, *url,
                                              state_->options.max_body_bytes, out, keep_alive);
    // A kept-alive connection the server closed meanwhile: nothing was processed, try anew.
    // A cancelled exchange is not retried; its connection is dropped (closed) below.
    if (reused && !got_some && !out.timed_out && !out.cancelled && out.error.size()) continue;
    if (out.error.empty() && keep_alive) state_->Give(key, std::move(conn));
    co_return out;
  }
  failed.error = "connection closed by the server";
  co_return failed;
}

}  // namespace triage::http
