// A small HTTP/1.1 server and client on Boost.Beast with C++20 coroutines.
//
// Server: each connection runs as a coroutine on its own strand; bodies over `max_body_bytes`
// get 413, unparseable requests 400, both with a JSON error body; idle connections close after
// `idle_timeout`. The handler is called for every well-formed request.
// Client: one request per connection (http or https with verified TLS and SNI); every I/O has
// the deadline given. Errors come back as ClientResponse::error, never as exceptions.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/url.hpp"

namespace triage::http {

namespace net = boost::asio;
using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Status = boost::beast::http::status;
using Handler = std::function<net::awaitable<Response>(Request)>;

// A response with a JSON body (already serialised) and the request's keep-alive and version.
Response JsonResponse(const Request& request, Status status, std::string json);
// {"error": {"code": code, "message": message}}
Response ErrorResponse(const Request& request, Status status, std::string_view code,
                       std::string_view message);

// 503 `shutting_down` with Retry-After: what a connection still open once its handler's owner is
// gone is told.
Response GoneResponse(const Request& request);

// A server's handler that holds its owner weakly: the owner holds the server, so a strong hold
// would keep both alive for ever. Each request holds the owner while it runs; once the owner is
// gone, requests get GoneResponse.
template <class Owner>
Handler WeakHandler(std::weak_ptr<Owner> owner, net::awaitable<Response> (Owner::*serve)(Request)) {
  return [owner = std::move(owner), serve](Request request) -> net::awaitable<Response> {
    const auto held = owner.lock();
    if (!held) co_return GoneResponse(request);
    co_return co_await (held.get()->*serve)(std::move(request));
  };
}

struct ServerOptions {
  std::string address = "127.0.0.1";     // `api.listen` / `admin.listen` host
  unsigned short port = 8080;            // ... and port; 0 picks a free one
  std::size_t max_body_bytes = 1 << 20;  // `api.max_body_bytes`
  std::chrono::seconds idle_timeout{30};
};

class Server {
 public:
  Server(net::io_context& io, ServerOptions options, Handler handler);
  ~Server();
  void Start();  // binds and listens; throws when the address is taken
  // Stops accepting connections; a request already read is answered, then its connection
  // closed (`Connection: close`). Idle keep-alive connections end at their idle timeout.
  void Stop();
  unsigned short Port() const;   // the bound port
  std::size_t InFlight() const;  // requests read and not yet answered

 private:
  struct State;
  std::shared_ptr<State> state_;
};

struct ClientResponse {
  int status = 0;  // 0 when no response was received
  std::string body;
  std::string error;  // transport error; empty when a response arrived
  std::string retry_after;
  std::string content_type;
  std::string request_id;  // x-request-id / request-id, when the server sent one
  bool timed_out = false;  // the deadline passed (connect, write, or a slow trickle of bytes)
  bool truncated = false;  // the connection ended inside the body
  bool cancelled = false;  // the caller cancelled the exchange; its connection was closed
};

struct ClientRequest {
  std::string method = "POST";
  std::string url;  // http://host[:port]/path or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
};

net::awaitable<ClientResponse> Send(ClientRequest request);

struct PoolOptions {
  std::size_t max_idle_per_host = 64;
  std::chrono::seconds idle_ttl{50};  // below common server keep-alive limits
  std::size_t max_body_bytes = 16 << 20;
};

// A keep-alive client: connections (http, or https with verified TLS and SNI) are reused per
// scheme/host/port. The deadline bounds the whole exchange, so a server trickling bytes cannot
// hold a call past it. A reused connection the server had closed is retried once on a fresh
// one, only when no byte of a response arrived. Asio cancellation of the awaiting coroutine
// (terminal) ends the exchange at once and closes its connection, so the server sees the client
// leave (`cancelled`). Thread-safe; errors come back in the response.
class ClientPool {
 public:
  explicit ClientPool(PoolOptions options = {});
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;
  net::awaitable<ClientResponse> Send(const ClientRequest& request,
                                      std::chrono::steady_clock::time_point deadline);
  std::size_t Idle() const;    // connections waiting for reuse
  std::size_t Opened() const;  // connections opened so far

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// URLs are parsed by core::ParseUrl, shared with intake's checks of callback URLs.
using core::ParseUrl;
using core::Url;

}  // namespace triage::http
