// The service's configuration: embedded defaults, then an optional TOML file (config/triage.toml
// documents every key), then TRIAGE_* environment variables (key `a.b_c` -> TRIAGE_A_B_C; lists
// comma-separated). Invalid values, and keys in the file that no part reads (a misspelling), fail
// at start with a ConfigError naming the key (and for unknown keys the file and line).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "http/http.hpp"
#include "intake/submission.hpp"
#include "notify/webhook.hpp"
#include "providers/resilient.hpp"
#include "providers/sim.hpp"
#include "queue/kafka.hpp"
#include "route/policy.hpp"
#include "route/routing.hpp"
#include "store/db.hpp"

namespace triage::app {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A TRIAGE_* environment variable nothing reads (app/main warns of each), and the variable a
// key reads that it most likely misspells, if one is near.
struct UnreadEnv {
  std::string name;
  std::string nearest;  // empty: none within three edits
};

struct ModelConfig {
  std::string name;
  // sim | replay | openai | anthropic | openai-compatible
  std::string provider = "sim";
  providers::SimProfile profile;
  providers::Pricing pricing;
  int timeout_seconds = 60;  // the call's deadline: minutes for reasoning models
  // Real providers (config/triage.toml documents each key).
  std::string model_id;      // the provider's model id; empty: the name
  std::string base_url;      // empty: the provider's default (required for openai-compatible)
  std::string api_key_env;   // empty: OPENAI_API_KEY / ANTHROPIC_API_KEY by provider
  std::string api_key_file;  // read when the variable is unset; the key is never logged
  std::string anthropic_version = "2023-06-01";
  bool require_usage = true;
  int max_tokens = 4096;
  std::optional<double> temperature = 0.0;  // price/temperature: negative in config = unset
  std::string reasoning_effort;             // empty: not sent
  int thinking_budget = 0;                  // 0: no extended thinking
  bool logprobs = false;                    // ask for token log-probabilities (confidence)
  std::vector<std::string> fallbacks;       // models tried, in order, when this one fails
  // Retries, breaker, concurrency, rate; its timeout is timeout_seconds, set where the model
  // is built (Models), so the two cannot disagree.
  providers::ModelPolicy policy;
  std::string replay_dir, replay_model;     // provider = replay
};

// The completion cache (cache/completion_cache.hpp); [cache] in config/triage.toml.
struct CacheConfig {
  bool enabled = true;
  bool postgres = true;  // the durable layer; false: memory only
  std::size_t memory_bytes = 64 << 20;
  std::int64_t ttl_seconds = 86400;  // -1: forever, 0: not cached
  std::map<std::string, std::int64_t> domain_ttl_seconds;
};

struct Topics {
  std::string jobs, reasoning, completed, dlq;
  static Topics WithPrefix(const std::string& prefix);
};

struct Config {
  http::ServerOptions api;
  // /healthz, /readyz and /metrics in every `triage serve` process (`admin.listen`).
  http::ServerOptions admin{"127.0.0.1", 8081, 64 << 10};
  // On SIGTERM, how long work in flight may go on before the process exits anyway
  // (`shutdown.drain_seconds`); leases cover what is cut off.
  int drain_seconds = 20;
  // [log]: "text" or "json" lines; the level (trace ... off). Env TRIAGE_LOG_FORMAT,
  // TRIAGE_LOG_LEVEL.
  std::string log_format = "text";
  std::string log_level = "info";
  // What the config read that must never be logged: the webhook signing secret, a password in
  // the Postgres DSN, Kafka properties naming a password, secret or key (app/logging.hpp).
  std::vector<std::string> secrets;
  // TRIAGE_* variables set in the environment that no key reads: likely misspellings.
  std::vector<UnreadEnv> unread_env;
  intake::Limits limits;
  store::DbOptions postgres{"host=127.0.0.1 port=54329 user=triage dbname=triage", 8};
  queue::KafkaOptions kafka{"127.0.0.1:19092", {}};
  std::string topic_prefix = "triage";
  int jobs_partitions = 8;
  int reasoning_partitions = 8;
  int session_timeout_ms = 10000;

  std::string router_group = "triage-router";
  std::size_t router_max_in_flight = 512;
  std::string worker_group = "triage-reasoning";
  std::size_t worker_max_in_flight = 256;

  route::PolicyOptions policy;
  // The ladder, the plan of every domain x tier and the thresholds ([ladder], [strategy],
  // [thresholds]); by default built from router.model, worker.model and policy.*.
  route::RoutingOptions routing;
  // `strategy.answer_estimator`: an "after the call" learned router file whose P(answer right)
  // is each answer's confidence (app/answer_estimation.hpp); empty: none.
  std::string answer_estimator;
  std::string standard_model = "sim-standard";
  std::string reasoning_model = "sim-reasoning";
  std::map<std::string, ModelConfig> models;
  CacheConfig cache;
  // `providers.<provider>.max_concurrency`: calls in flight per provider across its models
  // (an account's limit); more wait in line. Absent or 0: unlimited.
  std::map<std::string, std::size_t> provider_max_concurrency;
  std::uint64_t sim_seed = 42;
  double sim_time_scale = 1.0;  // set after loading through SetSimTimeScale
  // Changes sim.time_scale after loading, with the expected latencies of the ladder's simulated
  // rungs (which follow it) scaled alike.
  void SetSimTimeScale(double scale);

  notify::RetryPolicy webhook_retry;
  int webhook_timeout_ms = 10000;
  std::size_t notify_max_in_flight = 64;
  int notify_poll_ms = 100;
  std::optional<std::string> webhook_key;  // decoded from TRIAGE_WEBHOOK_SECRET / secret_file

  int reaper_interval_seconds = 5;
  int reaper_grace_seconds = 30;

  // How often the gauges read from outside the process are measured (consumer lag and paused
  // partitions, outbox depth), rather than on every scrape.
  int metrics_sample_interval_ms = 5000;

  Topics topics() const { return Topics::WithPrefix(topic_prefix); }
  // Lease on an inline job: the model's timeout plus room to write the result.
  const ModelConfig& StandardModel() const { return models.at(standard_model); }
  const ModelConfig& ReasoningModel() const { return models.at(reasoning_model); }
  // A lease outlives the model call it covers by enough to write the result.
  int lease_margin_seconds = 30;
  // How often a holder checks that its lease still holds (renewing it every third of its
  // length): a job cancelled or taken over has its calls cut off within this time.
  int lease_check_seconds = 5;
  int InlineLeaseSeconds() const { return StandardModel().timeout_seconds + lease_margin_seconds; }
  int ReasoningLeaseSeconds() const {
    return ReasoningModel().timeout_seconds + lease_margin_seconds;
  }
};

// `path` empty: defaults and environment only. Throws ConfigError.
Config LoadConfig(const std::string& path);

}  // namespace triage::app
