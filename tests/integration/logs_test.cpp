// The logs of a real `triage serve` process under `log.format = "json"`: every line it prints is
// one JSON object naming its logger (librdkafka's own lines too), a line about a job carries its
// job_id, and the secrets it holds appear in none of them. The secrets are planted where a leak
// is likely: a provider key the (local, fake) provider echoes in its 401 reply, which the
// service logs as the call's failure; the webhook signing secret; a password in the DSN.
#include <gtest/gtest.h>
#include <signal.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>

#include "support.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

constexpr const char* kKey = "sk-planted-provider-key-3f9c1e7a";
constexpr const char* kWebhookSecret = "whsec_cGxhbnRlZC13ZWJob29rLXNlY3JldA==";
constexpr const char* kDbPassword = "planted-db-password-81d2";

TEST(Logs, JsonLinesNameTheirLoggerAndJobAndNeverASecret) {
  t::FreshSchema schema;
  auto config = t::TestConfig(schema);
  config.postgres.dsn += " password=" + std::string(kDbPassword);  // trust auth ignores it
  boost::asio::io_context io;
  // A provider that refuses the key and says which one it got, as hosted APIs do.
  std::atomic<int> calls{0};
  std::string seen_authorization;
  std::mutex seen_mutex;
  http::ServerOptions provider_options;
  http::Server provider(
      io, provider_options, [&](http::Request r) -> boost::asio::awaitable<http::Response> {
        ++calls;
        {
          const std::lock_guard lock(seen_mutex);
          seen_authorization = std::string(r["authorization"]);
        }
        const std::string key = std::string(r["authorization"]).substr(7);
        co_return http::JsonResponse(
            r, http::Status::unauthorized,
            json{{"error", {{"message", "Incorrect API key provided: " + key}}}}.dump());
      });
  provider.Start();
  t::WebhookReceiver receiver(io);
  t::IoThreads threads(io);

  config.standard_model = "hosted";
  const std::string toml =
      "[log]\nformat = \"json\"\n[models.hosted]\nprovider = "
      "\"openai-compatible\"\nbase_url = \"http://127.0.0.1:" +
      std::to_string(provider.Port()) + "/v1\"\napi_key_env = \"HOSTED_API_KEY\"\n";
  t::ServeProcess serve(config, "api,router,worker,notifier", toml,
                        {std::string("HOSTED_API_KEY=") + kKey,
                         std::string("TRIAGE_WEBHOOK_SECRET=") + kWebhookSecret});
  const auto port = serve.Port("api", std::chrono::seconds(60));
  ASSERT_NE(port, 0) << serve.Log();
  http::ClientRequest submit;
  submit.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/jobs";
  submit.headers = {{"content-type", "application/json"}};
  submit.body = json{{"task", "What is 2 + 3?"},
                     {"domain", "math"},
                     {"callback_url", receiver.url()},
                     {"metadata", {{"sim", {{"difficulty", "easy"}, {"expected_answer", "5"}}}}}}
                    .dump();
  const auto res = t::Call(io, submit);
  ASSERT_EQ(res.status, 202) << res.body << serve.Log();
  const auto id = json::parse(res.body).at("id").get<std::string>();
  ASSERT_TRUE(t::WaitFor([&] { return receiver.DistinctJobs() == 1; }, std::chrono::seconds(90)))
      << serve.Log();
  serve.Kill(SIGTERM);
  {
    const std::lock_guard lock(seen_mutex);
    ASSERT_GE(calls.load(), 1) << "the provider was never called";
    EXPECT_EQ(seen_authorization, std::string("Bearer ") + kKey);  // the key was really used
  }

  const auto log = serve.Log();
  for (const auto* secret : {kKey, kWebhookSecret, kDbPassword})
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in\n" << log;
  std::istringstream lines(log);
  std::string line;
  int parsed = 0, about_the_job = 0, failure_lines = 0, kafka_lines = 0;
  while (std::getline(lines, line)) {
    const auto j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON line: " << line;
    ++parsed;
    ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("logger") &&
                j.contains("message"))
        << line;
    kafka_lines += j["logger"] == "kafka";
    const auto message = j["message"].get<std::string>();
    if (message.find(id) != std::string::npos) {
      ++about_the_job;
      EXPECT_EQ(j.value("job_id", ""), id) << line;
    }
    if (message.find("call to hosted failed") != std::string::npos) {
      ++failure_lines;
      EXPECT_NE(message.find("Incorrect API key provided: [redacted]"), std::string::npos) << line;
    }
  }
  EXPECT_GT(parsed, 5);
  EXPECT_GE(failure_lines, 1) << log;
  EXPECT_GE(about_the_job, 1) << log;
  (void)kafka_lines;  // librdkafka may print nothing on a healthy run; when it does, as JSON
}

}  // namespace
}  // namespace triage::app
