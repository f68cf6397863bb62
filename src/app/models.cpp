#include "app/models.hpp"

#include <boost/asio/this_coro.hpp>

#include "app/logging.hpp"
#include "providers/http_model.hpp"
#include "providers/replay.hpp"
#include "providers/sim.hpp"

namespace triage::app {

std::unique_ptr<providers::ModelClient> BuildClient(const ModelConfig& m, const Config& config,
                                                    std::shared_ptr<http::ClientPool> pool) {
  const std::string prefix = "models." + m.name;
  if (m.provider == "sim")
    return std::make_unique<providers::SimModel>(providers::SimOptions{
        m.name, m.profile, m.pricing, config.sim_seed, config.sim_time_scale});
  if (m.provider == "replay") {
    try {
      return std::make_unique<providers::ReplayModel>(
          providers::ReplayOptions{m.name, m.replay_dir, m.replay_model, m.pricing, config.sim_seed,
                                   0, std::chrono::milliseconds(0)});
    } catch (const std::runtime_error& e) {
      throw ConfigError("config key `" + prefix + ".replay_dir`: " + e.what());
    }
  }
  const auto flavor = providers::ParseFlavor(m.provider);
  if (!flavor) throw ConfigError("config key `" + prefix + ".provider`: unknown provider");
  providers::HttpModelOptions o;
  o.name = m.name;
  o.model = m.model_id.empty() ? m.name : m.model_id;
  o.base_url = m.base_url.empty() ? providers::DefaultBaseUrl(*flavor) : m.base_url;
  o.pricing = m.pricing;
  o.require_usage = m.require_usage;
  o.anthropic_version = m.anthropic_version;
  std::string env = m.api_key_env;
  if (env.empty() && *flavor == providers::Flavor::kOpenAi) env = "OPENAI_API_KEY";
  if (env.empty() && *flavor == providers::Flavor::kAnthropic) env = "ANTHROPIC_API_KEY";
  try {
    // Local compatible servers need no key; the hosted APIs do.
    o.api_key =
        providers::LoadApiKey(env, m.api_key_file, *flavor != providers::Flavor::kOpenAiCompatible);
  } catch (const std::runtime_error& e) {
    throw ConfigError("config key `" + prefix + ".api_key_env` / `.api_key_file`: " + e.what());
  }
  RedactInLogs(o.api_key);
  return std::make_unique<providers::HttpModel>(*flavor, std::move(o), std::move(pool));
}

cache::CacheOptions CacheOptionsFrom(const CacheConfig& c) {
  cache::CacheOptions o;
  o.enabled = c.enabled;
  o.memory_bytes = c.memory_bytes;
  auto ttl = [](std::int64_t s) -> std::optional<std::chrono::seconds> {
    if (s < 0) return std::nullopt;  // forever
    return std::chrono::seconds(s);
  };
  o.default_ttl = ttl(c.ttl_seconds);
  for (const auto& [domain, seconds] : c.domain_ttl_seconds) o.domain_ttl[domain] = ttl(seconds);
  return o;
}

Models::Models(const Config& config, store::Db* db, std::shared_ptr<metrics::Metrics> metrics)
    : config_(config), metrics_(std::move(metrics)), pool_(std::make_shared<http::ClientPool>()) {
  for (const auto& [name, m] : config.models) {
    // Only the models a role can reach are built: unused entries need no API key.
    guarded_[name] = nullptr;
  }
  // The ladder's models (router.model and worker.model by default), then their fallbacks.
  std::vector<std::string> needed = {config.standard_model, config.reasoning_model};
  for (const auto& rung : config.routing.ladder.rungs)
    if (std::find(needed.begin(), needed.end(), rung.model) == needed.end())
      needed.push_back(rung.model);
  const std::vector<std::string> called(needed);
  for (std::size_t i = 0; i < needed.size(); ++i)
    for (const auto& f : config.models.at(needed[i]).fallbacks)
      if (std::find(needed.begin(), needed.end(), f) == needed.end()) needed.push_back(f);
  std::map<std::string, std::shared_ptr<providers::AsyncSemaphore>> provider_slots;
  for (const auto& [provider, limit] : config.provider_max_concurrency)
    provider_slots[provider] = std::make_shared<providers::AsyncSemaphore>(limit);
  for (const auto& name : needed) {
    const auto& m = config.models.at(name);
    const auto slots = provider_slots.find(m.provider);
    auto policy = m.policy;
    policy.timeout = std::chrono::seconds(m.timeout_seconds);
    guarded_[name] = std::make_shared<providers::GuardedModel>(
        std::shared_ptr<providers::ModelClient>(BuildClient(m, config, pool_)), policy,
        slots == provider_slots.end() ? nullptr : slots->second);
  }
  for (const auto& name : called) {
    if (chains_.contains(name)) continue;
    std::vector<std::shared_ptr<providers::GuardedModel>> chain = {guarded_.at(name)};
    for (const auto& f : config.models.at(name).fallbacks) chain.push_back(guarded_.at(f));
    chains_[name] = std::make_unique<providers::ModelChain>(std::move(chain), providers::RealTime(),
                                                            config.sim_seed);
  }
  std::shared_ptr<cache::CompletionStore> store;
  if (db && config.cache.postgres) store = std::make_shared<cache::PgCompletionStore>(*db);
  cache::CompletionCache::LookupObserver on_lookup;
  if (metrics_)
    on_lookup = [m = metrics_](const std::string& domain, bool hit) {
      m->CacheLookup(domain, hit);
    };
  cache_ = std::make_unique<cache::CompletionCache>(
      CacheOptionsFrom(config.cache), std::move(store),
      [] { return std::chrono::system_clock::now(); }, std::move(on_lookup));
}

metrics::Breaker BreakerOf(providers::CircuitBreaker::State state) {
  switch (state) {
    case providers::CircuitBreaker::State::kClosed:
      return metrics::Breaker::kClosed;
    case providers::CircuitBreaker::State::kHalfOpen:
      return metrics::Breaker::kHalfOpen;
    case providers::CircuitBreaker::State::kOpen:
      return metrics::Breaker::kOpen;
  }
  return metrics::Breaker::kOpen;
}

boost::asio::awaitable<providers::CallOutcome> Models::Call(
    std::string name, providers::ModelRequest request, providers::Deadline deadline,
    std::string domain, std::optional<double> sampling_temperature) {
  const auto& m = config_.models.at(name);
  request.max_tokens = m.max_tokens;
  request.temperature = sampling_temperature ? sampling_temperature : m.temperature;
  request.logprobs = m.logprobs;
  if (!m.reasoning_effort.empty()) request.reasoning_effort = m.reasoning_effort;
  if (m.thinking_budget > 0) request.thinking_budget = m.thinking_budget;
  // Cancellation (the job's lease is gone) must come back as the chain's cancelled outcome, not
  // as the exception Asio throws from the next co_await after it (the cache's, say).
  const bool throws = co_await boost::asio::this_coro::throw_if_cancelled();
  co_await boost::asio::this_coro::throw_if_cancelled(false);
  auto out = co_await cache_->Call(*chains_.at(name), std::move(request), deadline, domain);
  co_await boost::asio::this_coro::throw_if_cancelled(throws);
  if (metrics_)
    for (const auto& a : out.attempts)
      metrics_->ModelCalled({a.model,
                             a.cache_hit  ? "cache_hit"
                             : a.response ? "ok"
                                          : std::string(providers::ToString(a.error_kind)),
                             a.latency, a.cost_micros, a.retry});
  // A breaker changes state only when a call asks it or reports to it: after each call, its
  // chain's breakers hold their current state.
  if (metrics_)
    for (const auto& g : chains_.at(name)->Models())
      metrics_->BreakerState(g->Model().Name(),
                             metrics::BreakerStateValue(BreakerOf(g->Breaker().Current())));
  co_return out;
}

}  // namespace triage::app
