// chaos_load: the chaos run's client. Submits `--jobs` generated math problems at `--rate` per
// second, alternately over HTTP (POST /v1/jobs) and straight onto the `<prefix>.jobs` topic, and
// appends one line per acknowledged job to `--acks`: "<index> <job id> <http|kafka> <unix ms>".
// A job counts as acknowledged at its 202 (or 200: the same idempotency key, a retry whose
// first 202 was lost) or at its Kafka delivery report. Failures are retried with the same
// identity (HTTP: the idempotency key; Kafka: the envelope's id) until `--give-up-seconds`,
// so a retry never makes a second job. Exits 1 when some job was never acknowledged.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/steps.hpp"
#include "app/workload.hpp"
#include "core/ids.hpp"
#include "http/http.hpp"
#include "queue/kafka.hpp"

namespace {
namespace net = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string api, brokers, topic, callback, acks, run_id = "chaos";
  int jobs = 1000;
  double rate = 20;
  int concurrency = 32;
  int give_up_seconds = 600;
};

struct Load {
  Options options;
  std::vector<triage::app::Problem> problems;
  triage::queue::Producer& producer;
  std::FILE* acks;
  int next = 0, acknowledged = 0, given_up = 0, retries = 0;
  Clock::time_point start = Clock::now();

  json Body(int i) const {
    return {{"task", problems[i].text},
            {"domain", "math"},
            {"callback_url", options.callback},
            {"metadata", {{"chaos_index", i}, {"sim", triage::app::SimMetadata(problems[i])}}}};
  }

  void Ack(int i, const std::string& id, const char* via) {
    ++acknowledged;
    // One write per line, flushed, so a line is whole however the run ends.
    std::fprintf(acks, "%d %s %s %lld\n", i, id.c_str(), via, static_cast<long long>(UnixMs()));
    std::fflush(acks);
  }

  // The job's id once acknowledged; empty when it was not within the give-up time.
  net::awaitable<std::string> OverHttp(int i) {
    triage::http::ClientRequest request;
    request.url = options.api + "/v1/jobs";
    auto body = Body(i);
    body["idempotency_key"] = options.run_id + "-" + std::to_string(i);
    request.body = body.dump();
    request.headers = {{"content-type", "application/json"}};
    request.timeout = std::chrono::seconds(10);
    const auto until = Clock::now() + std::chrono::seconds(options.give_up_seconds);
    while (Clock::now() < until) {
      const auto response = co_await triage::http::Send(request);
      if (response.status == 202 || response.status == 200)
        co_return json::parse(response.body).at("id").get<std::string>();
      if (response.status >= 400 && response.status < 500 && response.status != 429)
        throw std::runtime_error("job " + std::to_string(i) + " refused: " + response.body);
      ++retries;  // 503 while the database is away, or no answer at all
      co_await triage::app::Sleep(std::chrono::milliseconds(500));
    }
    co_return "";
  }

  net::awaitable<std::string> OverKafka(int i) {
    const auto id = triage::core::NewUuidV7();
    auto envelope = Body(i);
    envelope["id"] = id;
    const auto payload = envelope.dump();
    const auto until = Clock::now() + std::chrono::seconds(options.give_up_seconds);
    while (Clock::now() < until) {
      const auto error = co_await triage::app::Produce(producer, options.topic, id, payload);
      if (error.empty()) co_return id;
      ++retries;  // the broker is away: the same envelope again, so the same job
      co_await triage::app::Sleep(std::chrono::milliseconds(500));
    }
    co_return "";
  }

  // Takes the next job when its time on the schedule comes, until all are taken.
  net::awaitable<void> Submitter() {
    while (next < options.jobs) {
      const int i = next++;
      const auto due =
          start + std::chrono::microseconds(static_cast<std::int64_t>(1e6 * i / options.rate));
      net::steady_timer timer(co_await net::this_coro::executor, due);
      co_await timer.async_wait(net::use_awaitable);
      const bool http = i % 2 == 0;
      const auto id = http ? co_await OverHttp(i) : co_await OverKafka(i);
      if (id.empty())
        ++given_up;
      else
        Ack(i, id, http ? "http" : "kafka");
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chaos_load: submits the chaos run's jobs over HTTP and Kafka"};
  Options o;
  app.add_option("--api", o.api, "http://127.0.0.1:PORT")->required();
  app.add_option("--brokers", o.brokers, "Kafka bootstrap servers")->required();
  app.add_option("--topic", o.topic, "the jobs topic")->required();
  app.add_option("--callback", o.callback, "every job's callback_url")->required();
  app.add_option("--acks", o.acks, "file the acknowledgements are appended to")->required();
  app.add_option("--run-id", o.run_id, "prefix of the idempotency keys");
  app.add_option("--jobs", o.jobs)->check(CLI::Range(1, 1000000));
  app.add_option("--rate", o.rate, "jobs started per second")->check(CLI::Range(0.1, 10000.0));
  app.add_option("--concurrency", o.concurrency)->check(CLI::Range(1, 1024));
  app.add_option("--give-up-seconds", o.give_up_seconds)->check(CLI::Range(1, 86400));
  CLI11_PARSE(app, argc, argv);

  std::FILE* acks = std::fopen(o.acks.c_str(), "a");
  if (!acks) {
    fmt::print(stderr, "chaos_load: cannot open {}\n", o.acks);
    return 2;
  }
  triage::queue::Producer producer({o.brokers, {}});
  Load load{o, triage::app::GenerateWorkload(o.jobs, 7), producer, acks};
  net::io_context io;
  std::vector<std::future<void>> submitters;
  for (int w = 0; w < o.concurrency; ++w)
    submitters.push_back(net::co_spawn(io, load.Submitter(), net::use_future));
  io.run();  // until every submitter is done
  int failed = 0;
  for (auto& s : submitters) {
    try {
      s.get();
    } catch (const std::exception& e) {
      ++failed;
      fmt::print(stderr, "chaos_load: {}\n", e.what());
    }
  }
  std::fclose(acks);
  fmt::print("chaos_load: {} of {} acknowledged in {:.1f} s ({} retries, {} given up)\n",
             load.acknowledged, o.jobs,
             std::chrono::duration<double>(Clock::now() - load.start).count(), load.retries,
             load.given_up);
  return load.acknowledged == o.jobs && failed == 0 ? 0 : 1;
}
