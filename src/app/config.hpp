// The service's configuration: embedded defaults, then an optional TOML file (config/triage.toml
// documents every key), then TRIAGE_* environment variables (key `a.b_c` -> TRIAGE_A_B_C; lists
// comma-separated). Invalid values fail at start with a ConfigError naming the key.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "http/http.hpp"
#include "intake/submission.hpp"
#include "notify/webhook.hpp"
#include "providers/sim.hpp"
#include "queue/kafka.hpp"
#include "route/policy.hpp"
#include "store/db.hpp"

namespace triage::app {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ModelConfig {
  std::string name;
  std::string provider = "sim";  // only `sim` until the provider adapters land
  providers::SimProfile profile;
  providers::Pricing pricing;
  int timeout_seconds = 60;  // the call's deadline: minutes for reasoning models
};

struct Topics {
  std::string jobs, reasoning, completed, dlq;
  static Topics WithPrefix(const std::string& prefix);
};

struct Config {
  http::ServerOptions api;
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
  std::string standard_model = "sim-standard";
  std::string reasoning_model = "sim-reasoning";
  std::map<std::string, ModelConfig> models;
  std::uint64_t sim_seed = 42;
  double sim_time_scale = 1.0;

  notify::RetryPolicy webhook_retry;
  int webhook_timeout_ms = 10000;
  std::size_t notify_max_in_flight = 64;
  int notify_poll_ms = 100;
  std::optional<std::string> webhook_key;  // decoded from TRIAGE_WEBHOOK_SECRET / secret_file

  int reaper_interval_seconds = 5;
  int reaper_grace_seconds = 30;

  Topics topics() const { return Topics::WithPrefix(topic_prefix); }
  // Lease on an inline job: the model's timeout plus room to write the result.
  const ModelConfig& StandardModel() const { return models.at(standard_model); }
  const ModelConfig& ReasoningModel() const { return models.at(reasoning_model); }
  // A lease outlives the model call it covers by enough to write the result.
  int lease_margin_seconds = 30;
  int InlineLeaseSeconds() const { return StandardModel().timeout_seconds + lease_margin_seconds; }
  int ReasoningLeaseSeconds() const {
    return ReasoningModel().timeout_seconds + lease_margin_seconds;
  }
};

// `path` empty: defaults and environment only. Throws ConfigError.
Config LoadConfig(const std::string& path);

}  // namespace triage::app
