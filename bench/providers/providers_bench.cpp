// Provider-layer overhead. Every server is on 127.0.0.1 and every loop is bounded.
//   BM_BuildAndParse       adapter CPU alone: build the request JSON, parse a reply (no I/O)
//   BM_AdapterCall         one OpenAI-shaped call through the pooled keep-alive client to a
//                          local server answering at once; CPU of the calling thread only (the
//                          server runs on its own thread)
//   BM_ChainCacheMiss      the same through ModelChain + CompletionCache (memory), distinct
//                          prompts: key hashing, LRU insert, guards, adapter, HTTP
//   BM_ChainCacheMissNoNetwork  cache + chain + adapter build/parse, no socket (the adapter and
//                          cache overhead "excluding the network")
//   BM_CacheHit            an identical request answered from the in-process LRU
//   BM_InFlight/N          N concurrent calls to a server (a child process) that answers each
//                          after TRIAGE_BENCH_HOLD_SECONDS (default 60): RSS of this process
//                          while all N are in flight, and whether all N then succeed
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "cache/completion_cache.hpp"
#include "providers/http_model.hpp"

namespace {
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace triage;
using namespace std::chrono_literals;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(TRIAGE_SOURCE_DIR) + "/tests/fixtures/providers/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string HttpOk(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A minimal keep-alive server: reads a request (headers + Content-Length body), waits `hold`,
// writes the canned reply. Raw asio so it costs little of the machine's CPU.
class CannedServer {
 public:
  CannedServer(std::string reply, std::chrono::milliseconds hold)
      : reply_(std::move(reply)),
        hold_(hold),
        acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    acceptor_.listen(8192);
  }
  unsigned short Port() const { return acceptor_.local_endpoint().port(); }
  void RunInThread() {
    net::co_spawn(io_, Accept(), net::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  void RunHere(std::chrono::seconds limit) {
    net::co_spawn(io_, Accept(), net::detached);
    io_.run_for(limit);
  }
  ~CannedServer() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  net::awaitable<void> Session(tcp::socket s) {
    net::streambuf buf;
    net::steady_timer timer(s.get_executor());
    for (;;) {
      auto [ec, n] =
          co_await net::async_read_until(s, buf, "\r\n\r\n", net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      std::string head(net::buffers_begin(buf.data()), net::buffers_begin(buf.data()) + n);
      buf.consume(n);
      std::size_t length = 0;
      for (const char* name : {"Content-Length: ", "content-length: "})
        if (auto at = head.find(name); at != std::string::npos)
          length = std::stoul(head.substr(at + 16));
      if (buf.size() < length) {
        auto [rec, rn] = co_await net::async_read(
            s, buf, net::transfer_exactly(length - buf.size()), net::as_tuple(net::use_awaitable));
        if (rec) co_return;
      }
      buf.consume(length);
      if (hold_.count() > 0) {
        timer.expires_after(hold_);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
      }
      auto [wec, wn] =
          co_await net::async_write(s, net::buffer(reply_), net::as_tuple(net::use_awaitable));
      if (wec) co_return;
    }
  }
  net::awaitable<void> Accept() {
    for (;;) {
      auto [ec, s] = co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) co_return;
      net::co_spawn(io_, Session(std::move(s)), net::detached);
    }
  }
  std::string reply_;
  std::chrono::milliseconds hold_;
  net::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

providers::HttpModelOptions Options(unsigned short port) {
  providers::HttpModelOptions o;
  o.name = "bench";
  o.model = "gpt-4o-mini";
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.api_key = "sk-bench";
  o.pricing = {150'000, 600'000, 75'000};
  return o;
}

providers::ModelRequest Request(std::string prompt) {
  providers::ModelRequest r;
  r.messages = {{"system", "Answer briefly."}, {"user", std::move(prompt)}};
  r.max_tokens = 256;
  return r;
}

void BM_BuildAndParse(benchmark::State& state) {
  const auto options = Options(1);
  http::ClientResponse reply;
  reply.status = 200;
  reply.content_type = "application/json";
  reply.body = Fixture("openai_reasoning_response.json");
  const auto request = Request("How many ways can 5 books be arranged on a shelf?");
  for (auto _ : state) {
    auto built = providers::BuildRequest(providers::Flavor::kOpenAi, options, request);
    benchmark::DoNotOptimize(built);
    auto parsed = providers::ParseReply(providers::Flavor::kOpenAi, options, reply, 0ms);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_BuildAndParse);

template <class Body>
void RunOnce(net::io_context& io, Body body) {
  net::co_spawn(io, std::move(body), net::detached);
  io.restart();
  io.run();
}

void BM_AdapterCall(benchmark::State& state) {
  CannedServer server(HttpOk(Fixture("openai_chat_response.json")), 0ms);
  server.RunInThread();
  net::io_context io;  // before the pool: pooled sockets must die before their io_context
  auto pool = std::make_shared<http::ClientPool>();
  providers::HttpModel model(providers::Flavor::kOpenAi, Options(server.Port()), pool);
  const auto request = Request("How many ways can 5 books be arranged on a shelf?");
  std::size_t failures = 0;
  for (auto _ : state) {
    RunOnce(io, [&]() -> net::awaitable<void> {
      try {
        auto r = co_await model.Complete(request, std::chrono::steady_clock::now() + 5s);
        benchmark::DoNotOptimize(r);
      } catch (const std::exception&) {
        ++failures;
      }
    }());
  }
  state.counters["failures"] = static_cast<double>(failures);
  state.counters["connections"] = static_cast<double>(pool->Opened());
}
BENCHMARK(BM_AdapterCall)->MinTime(2.0);

struct Stack {
  std::shared_ptr<http::ClientPool> pool = std::make_shared<http::ClientPool>();
  std::shared_ptr<providers::HttpModel> model;
  providers::ModelChain chain;
  cache::CompletionCache cache;
  explicit Stack(unsigned short port, std::chrono::milliseconds timeout = 60s)
      : model(std::make_shared<providers::HttpModel>(providers::Flavor::kOpenAi, Options(port),
                                                     pool)),
        chain({std::make_shared<providers::GuardedModel>(model, Policy(timeout))}),
        cache(cache::CacheOptions{}) {}
  static providers::ModelPolicy Policy(std::chrono::milliseconds timeout) {
    providers::ModelPolicy p;
    p.timeout = timeout;  // the model's own deadline must outlast the server's hold
    return p;
  }
};

void BM_ChainCacheMiss(benchmark::State& state) {
  CannedServer server(HttpOk(Fixture("openai_chat_response.json")), 0ms);
  server.RunInThread();
  net::io_context io;
  Stack stack(server.Port());
  std::size_t i = 0, failures = 0;
  for (auto _ : state) {
    auto request = Request("Question number " + std::to_string(i++));
    RunOnce(io, [&]() -> net::awaitable<void> {
      auto out = co_await stack.cache.Call(stack.chain, request,
                                           std::chrono::steady_clock::now() + 5s, "general");
      failures += out.response ? 0 : 1;
    }());
  }
  state.counters["failures"] = static_cast<double>(failures);
  state.counters["cache_bytes"] = static_cast<double>(stack.cache.MemoryBytes());
}
BENCHMARK(BM_ChainCacheMiss)->MinTime(2.0);

// The adapter's CPU without the socket: builds the request and parses a canned reply.
class NoNetworkModel final : public providers::ModelClient {
 public:
  NoNetworkModel() : options_(Options(1)) {
    reply_.status = 200;
    reply_.content_type = "application/json";
    reply_.body = Fixture("openai_chat_response.json");
  }
  const std::string& Name() const override { return options_.name; }
  const std::string& Provider() const override { return provider_; }
  const providers::Pricing& Prices() const override { return options_.pricing; }
  net::awaitable<providers::ModelResponse> Complete(providers::ModelRequest r,
                                                    providers::Deadline) override {
    auto built = providers::BuildRequest(providers::Flavor::kOpenAi, options_, r);
    benchmark::DoNotOptimize(built);
    co_return providers::ParseReply(providers::Flavor::kOpenAi, options_, reply_, 0ms);
  }

 private:
  providers::HttpModelOptions options_;
  http::ClientResponse reply_;
  std::string provider_ = "openai";
};

void BM_ChainCacheMissNoNetwork(benchmark::State& state) {
  net::io_context io;
  providers::ModelChain chain({std::make_shared<providers::GuardedModel>(
      std::make_shared<NoNetworkModel>(), providers::ModelPolicy{})});
  cache::CompletionCache cache(cache::CacheOptions{});
  std::size_t i = 0, failures = 0;
  for (auto _ : state) {
    auto request = Request("Question number " + std::to_string(i++));
    RunOnce(io, [&]() -> net::awaitable<void> {
      auto out =
          co_await cache.Call(chain, request, std::chrono::steady_clock::now() + 5s, "general");
      failures += out.response ? 0 : 1;
    }());
  }
  state.counters["failures"] = static_cast<double>(failures);
}
BENCHMARK(BM_ChainCacheMissNoNetwork);

void BM_CacheHit(benchmark::State& state) {
  CannedServer server(HttpOk(Fixture("openai_chat_response.json")), 0ms);
  server.RunInThread();
  net::io_context io;
  Stack stack(server.Port());
  const auto request = Request("How many ways can 5 books be arranged on a shelf?");
  RunOnce(io, [&]() -> net::awaitable<void> {
    co_await stack.cache.Call(stack.chain, request, std::chrono::steady_clock::now() + 5s,
                              "general");
  }());
  std::size_t misses = 0;
  for (auto _ : state) {
    RunOnce(io, [&]() -> net::awaitable<void> {
      auto out = co_await stack.cache.Call(stack.chain, request,
                                           std::chrono::steady_clock::now() + 5s, "general");
      misses += out.attempts.at(0).cache_hit ? 0 : 1;
    }());
  }
  state.counters["misses"] = static_cast<double>(misses);
}
BENCHMARK(BM_CacheHit);

long RssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// A plain coroutine function (not a lambda): its arguments live in its own frame.
net::awaitable<void> InFlightCall(Stack* stack, int i, providers::Deadline deadline,
                                  std::atomic<int>* ok, std::atomic<int>* failed) {
  auto out = co_await stack->cache.Call(stack->chain, Request("in flight " + std::to_string(i)),
                                        deadline, "general");
  ++*(out.response ? ok : failed);
}

void BM_InFlight(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const char* hold_env = std::getenv("TRIAGE_BENCH_HOLD_SECONDS");
  const auto hold = std::chrono::seconds(hold_env ? std::atoi(hold_env) : 60);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(n) + 64) {
    state.SkipWithError("RLIMIT_NOFILE too low for this many connections");
    return;
  }
  for (auto _ : state) {
    // The server lives in a child process: its sockets and memory are not counted here.
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
      state.SkipWithError("pipe failed");
      return;
    }
    const pid_t child = fork();
    if (child == 0) {
      close(pipe_fds[0]);
      CannedServer server(HttpOk(Fixture("openai_chat_response.json")), hold);
      const unsigned short port = server.Port();
      if (write(pipe_fds[1], &port, sizeof port) != sizeof port) _exit(1);
      server.RunHere(hold + 60s);  // bounded: the child always ends
      _exit(0);
    }
    close(pipe_fds[1]);
    unsigned short port = 0;
    if (read(pipe_fds[0], &port, sizeof port) != sizeof port) {
      state.SkipWithError("server did not start");
      return;
    }
    close(pipe_fds[0]);
    const long rss_before = RssKb();
    net::io_context io;
    Stack stack(port, std::chrono::duration_cast<std::chrono::milliseconds>(hold + 30s));
    std::atomic<int> ok{0}, failed{0};
    long rss_peak = 0;
    for (int i = 0; i < n; ++i)
      net::co_spawn(
          io, InFlightCall(&stack, i, std::chrono::steady_clock::now() + hold + 60s, &ok, &failed),
          net::detached);
    // Sample RSS while every call waits for the server.
    net::steady_timer sampler(io);
    std::function<void()> sample = [&] {
      sampler.expires_after(1s);
      sampler.async_wait([&](auto ec) {
        if (ec) return;
        rss_peak = std::max(rss_peak, RssKb());
        if (ok + failed < n) sample();
      });
    };
    sample();
    const auto started = std::chrono::steady_clock::now();
    io.run();
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    kill(child, SIGTERM);
    waitpid(child, nullptr, 0);
    state.counters["ok"] = ok.load();
    state.counters["failed"] = failed.load();
    state.counters["rss_peak_mb"] = static_cast<double>(rss_peak) / 1024.0;
    state.counters["rss_added_mb"] = static_cast<double>(rss_peak - rss_before) / 1024.0;
    state.counters["kb_per_call"] = static_cast<double>(rss_peak - rss_before) / n;
    state.counters["wall_s"] = seconds;
  }
}
BENCHMARK(BM_InFlight)->Arg(10000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
