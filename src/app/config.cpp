#include "app/config.hpp"

#include <spdlog/common.h>
#include <toml++/toml.h>
#include <unistd.h>  // environ

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace triage::app {

void Config::SetSimTimeScale(double scale) {
  for (auto& rung : routing.ladder.rungs)
    if (models.at(rung.model).provider == "sim")
      rung.expected_latency = std::chrono::milliseconds(std::llround(
          static_cast<double>(rung.expected_latency.count()) * scale / sim_time_scale));
  sim_time_scale = scale;
}

Topics Topics::WithPrefix(const std::string& p) {
  return {p + ".jobs", p + ".reasoning", p + ".completed", p + ".jobs.dlq"};
}

namespace {

// The password a libpq connection string carries, as keyword "password=..." (quoted or not) or
// in a URI's "user:password@"; nothing when it has none.
std::optional<std::string> DsnPassword(const std::string& dsn) {
  if (dsn.starts_with("postgres://") || dsn.starts_with("postgresql://")) {
    const auto start = dsn.find("://") + 3;
    const auto at = dsn.find('@', start);
    const auto colon = dsn.find(':', start);
    if (at == std::string::npos || colon == std::string::npos || colon > at) return std::nullopt;
    return dsn.substr(colon + 1, at - colon - 1);
  }
  for (auto at = dsn.find("password"); at != std::string::npos; at = dsn.find("password", at + 1)) {
    if (at > 0 && !std::isspace(static_cast<unsigned char>(dsn[at - 1]))) continue;
    auto i = dsn.find_first_not_of(' ', at + 8);
    if (i == std::string::npos || dsn[i] != '=') continue;
    i = dsn.find_first_not_of(' ', i + 1);
    if (i == std::string::npos) return std::nullopt;
    std::string value;
    if (dsn[i] == '\'') {
      for (++i; i < dsn.size() && dsn[i] != '\''; ++i) value += dsn[i] == '\\' ? dsn[++i] : dsn[i];
    } else {
      for (; i < dsn.size() && !std::isspace(static_cast<unsigned char>(dsn[i])); ++i)
        value += dsn[i];
    }
    return value;
  }
  return std::nullopt;
}

std::string EnvName(std::string_view key) {
  std::string name = "TRIAGE_";
  for (char c : key) name += c == '.' || c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Reads each key from the environment first, then the TOML file, else leaves the default.
// Remembers every key asked for, so that a key in the file nobody asks for (a misspelling, a
// key of another version) is reported instead of being silently ignored.
class Reader {
 public:
  explicit Reader(const toml::table& root) : root_(root) {}

  // The file's node for `key`, which counts as known from now on.
  toml::node_view<const toml::node> Node(std::string_view key) {
    known_.emplace(key);
    return root_.at_path(key);
  }
  // The environment's value for `key` (TRIAGE_SECTION_NAME), read from now on.
  const char* Env(std::string_view key) { return EnvVar(EnvName(key)); }
  // A variable by its own name (an alias, the secret, a key variable a model names).
  const char* EnvVar(const std::string& name) {
    KnowEnv(name);
    return std::getenv(name.c_str());
  }
  // A variable read elsewhere in the process under a name the config gives (api_key_env).
  void KnowEnv(const std::string& name) { env_read_.insert(name); }
  // Whether the environment or the file sets `key`.
  bool Has(std::string_view key) { return Env(key) || Node(key); }
  // Every key under `prefix` is known: a table passed through as is.
  void KnowAllUnder(std::string_view prefix) { free_tables_.emplace(prefix); }

  // Throws ConfigError naming the first value in the file that no Get/Node asked for.
  void RejectUnknownKeys(const std::string& path) const { RejectUnknown(root_, "", path); }

  // The TRIAGE_* variables of `environment` that neither a key nor the project's own scripts,
  // tests and tools read: warned about rather than refused, since the namespace is shared.
  std::vector<UnreadEnv> UnreadEnvironment(char** environment) const {
    std::vector<UnreadEnv> out;
    for (char** e = environment; e && *e; ++e) {
      const std::string entry(*e);
      const std::string name = entry.substr(0, entry.find('='));
      if (name.rfind("TRIAGE_", 0) != 0 || env_read_.contains(name) || ReadElsewhere(name))
        continue;
      out.push_back({name, Nearest(name)});
    }
    std::sort(out.begin(), out.end(),
              [](const UnreadEnv& a, const UnreadEnv& b) { return a.name < b.name; });
    return out;
  }

  template <class T>
  void Get(std::string_view key, T& out, std::string_view env_alias = {}) {
    known_.emplace(key);
    // Both names count as read; the alias wins when both are set.
    const std::string alias(env_alias), own = EnvName(key);
    const char* alias_value = alias.empty() ? nullptr : EnvVar(alias);
    const char* own_value = EnvVar(own);
    if (alias_value || own_value) {
      FromText(key, alias_value ? alias : own, alias_value ? alias_value : own_value, out);
      return;
    }
    const auto node = root_.at_path(key);
    if (node) FromNode(key, node, out);
  }

 private:
  static bool ReadElsewhere(const std::string& name) {
    static const std::set<std::string> kNames = {
        "TRIAGE_DATA_DIR",           "TRIAGE_KAFKA_LIBS",          "TRIAGE_LLAMA_URL",
        "TRIAGE_LLAMA_INSTALL",      "TRIAGE_REQUIRE_DATA",        "TRIAGE_VERIFY_VERBOSE",
        "TRIAGE_VERIFY_FULL_CODE",   "TRIAGE_BENCH_HOLD_SECONDS",  "TRIAGE_CLASSIFIER_MODEL",
        "TRIAGE_UPDATE_GOLDEN",      "TRIAGE_SANDBOX_TEST_SECRET"};
    return name.rfind("TRIAGE_LOCAL_", 0) == 0 || name.rfind("TRIAGE_TEST_", 0) == 0 ||
           kNames.contains(name);
  }
  // The read variable closest to `name` by edit distance, if it is a likely misspelling.
  std::string Nearest(const std::string& name) const {
    std::string best;
    std::size_t best_distance = 4;  // more edits than 3: not a misspelling of it
    for (const auto& candidate : env_read_) {
      const auto d = EditDistance(name, candidate);
      if (d < best_distance) best_distance = d, best = candidate;
    }
    return best;
  }
  static std::size_t EditDistance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
        diagonal = above;
      }
    }
    return row[b.size()];
  }

  void RejectUnknown(const toml::table& table, const std::string& prefix,
                     const std::string& path) const {
    for (const auto& [k, node] : table) {
      const std::string key = prefix + std::string(k.str());
      if (free_tables_.contains(key)) continue;
      if (const auto* sub = node.as_table()) {
        RejectUnknown(*sub, key + ".", path);
      } else if (!known_.contains(key)) {
        throw ConfigError("config file " + path + ": unknown key `" + key + "` at line " +
                          std::to_string(node.source().begin.line) +
                          ". Hint: config/triage.toml documents every key; check the spelling " +
                          "(and, for per-domain keys, that the domain is in policy.domains)");
      }
    }
  }
  [[noreturn]] static void Bad(std::string_view key, std::string_view what) {
    throw ConfigError("config key `" + std::string(key) + "`: " + std::string(what));
  }
  template <class T>
  static void FromText(std::string_view key, const std::string& env, const std::string& text,
                       T& out) {
    if constexpr (std::is_same_v<T, std::string>) {
      out = text;
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      out = SplitList(text);
    } else if constexpr (std::is_same_v<T, bool>) {
      if (text != "true" && text != "false") Bad(key, env + " must be true or false");
      out = text == "true";
    } else {
      std::istringstream in(text);
      T value{};
      if (!(in >> value) || !in.eof()) Bad(key, env + "='" + text + "' is not a number");
      out = value;
    }
  }
  template <class T>
  static void FromNode(std::string_view key, const toml::node_view<const toml::node>& node,
                       T& out) {
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      const auto* array = node.as_array();
      if (!array) Bad(key, "must be an array of strings");
      out.clear();
      for (const auto& item : *array) {
        if (!item.is_string()) Bad(key, "must be an array of strings");
        out.push_back(*item.value<std::string>());
      }
    } else if constexpr (std::is_floating_point_v<T>) {
      auto v = node.value<double>();
      if (!v) Bad(key, "must be a number");
      out = *v;
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      auto v = node.value<std::int64_t>();
      if (!v || (*v < 0 && std::is_unsigned_v<T>)) Bad(key, "must be an integer");
      out = static_cast<T>(*v);
    } else {
      auto v = node.value<T>();
      if (!v) Bad(key, "has the wrong type");
      out = *v;
    }
  }
  const toml::table& root_;
  std::set<std::string, std::less<>> known_, free_tables_;
  std::set<std::string> env_read_;  // every variable a key (or the loader) read
};

template <class T>
void Require(bool ok, std::string_view key, const T& what) {
  if (!ok) throw ConfigError("config key `" + std::string(key) + "`: " + std::string(what));
}

std::set<core::Tier> ParseTiers(std::string_view key, const std::vector<std::string>& names) {
  std::set<core::Tier> tiers;
  for (const auto& n : names) {
    auto tier = core::ParseTier(n);
    Require(tier.has_value(), key, "unknown tier '" + n + "'");
    tiers.insert(*tier);
  }
  return tiers;
}

core::Micros UsdPerMillion(double usd) { return static_cast<core::Micros>(usd * 1e6 + 0.5); }

ModelConfig DefaultModel(const std::string& name, bool reasoning) {
  ModelConfig m;
  m.name = name;
  m.profile = reasoning ? providers::ReasoningSimProfile() : providers::StandardSimProfile();
  const double price = reasoning ? 15.0 : 3.0;  // the seed's $ per 1M tokens
  m.pricing = {UsdPerMillion(price), UsdPerMillion(price), UsdPerMillion(price / 10)};
  m.timeout_seconds = reasoning ? 900 : 30;
  return m;
}

void ReadModel(Reader& r, const std::string& prefix, ModelConfig& m) {
  r.Get(prefix + ".provider", m.provider);
  Require(m.provider == "sim" || m.provider == "replay" || m.provider == "openai" ||
              m.provider == "anthropic" || m.provider == "openai-compatible",
          prefix + ".provider",
          "unknown provider '" + m.provider +
              "' (available: sim, replay, openai, anthropic, openai-compatible)");
  double in = m.pricing.input / 1e6, out = m.pricing.output / 1e6,
         cached = m.pricing.cached_input / 1e6, reasoning = -1, cached_write = -1;
  r.Get(prefix + ".price_input", in);
  r.Get(prefix + ".price_output", out);
  r.Get(prefix + ".price_cached_input", cached);
  r.Get(prefix + ".price_reasoning", reasoning);
  r.Get(prefix + ".price_cached_write", cached_write);
  Require(in >= 0 && out >= 0 && cached >= 0, prefix + ".price_*", "prices must be >= 0");
  m.pricing = {UsdPerMillion(in), UsdPerMillion(out), UsdPerMillion(cached), std::nullopt,
               std::nullopt};
  if (reasoning >= 0) m.pricing.reasoning = UsdPerMillion(reasoning);
  if (cached_write >= 0) m.pricing.cached_write = UsdPerMillion(cached_write);
  r.Get(prefix + ".timeout_seconds", m.timeout_seconds);
  Require(m.timeout_seconds > 0, prefix + ".timeout_seconds", "must be > 0");
  r.Get(prefix + ".model", m.model_id);
  r.Get(prefix + ".base_url", m.base_url);
  Require(m.base_url.empty() || http::ParseUrl(m.base_url).has_value(), prefix + ".base_url",
          "must be an http:// or https:// URL");
  Require(m.provider != "openai-compatible" || !m.base_url.empty(), prefix + ".base_url",
          "is required for provider openai-compatible");
  r.Get(prefix + ".api_key_env", m.api_key_env);
  if (!m.api_key_env.empty()) r.KnowEnv(m.api_key_env);
  r.Get(prefix + ".api_key_file", m.api_key_file);
  r.Get(prefix + ".anthropic_version", m.anthropic_version);
  r.Get(prefix + ".require_usage", m.require_usage);
  r.Get(prefix + ".max_tokens", m.max_tokens);
  Require(m.max_tokens > 0, prefix + ".max_tokens", "must be > 0");
  double temperature = m.temperature.value_or(-1);
  r.Get(prefix + ".temperature", temperature);
  Require(temperature <= 2, prefix + ".temperature", "must be <= 2 (negative: provider default)");
  m.temperature = temperature < 0 ? std::nullopt : std::optional<double>(temperature);
  r.Get(prefix + ".reasoning_effort", m.reasoning_effort);
  Require(m.reasoning_effort.empty() || m.reasoning_effort == "minimal" ||
              m.reasoning_effort == "low" || m.reasoning_effort == "medium" ||
              m.reasoning_effort == "high",
          prefix + ".reasoning_effort", "must be empty, minimal, low, medium or high");
  r.Get(prefix + ".thinking_budget", m.thinking_budget);
  r.Get(prefix + ".logprobs", m.logprobs);
  Require(m.thinking_budget == 0 || m.thinking_budget >= 1024, prefix + ".thinking_budget",
          "must be 0 (off) or >= 1024 (Anthropic's minimum)");
  r.Get(prefix + ".fallbacks", m.fallbacks);
  auto& p = m.policy;
  r.Get(prefix + ".max_concurrency", p.max_concurrency);
  r.Get(prefix + ".rate_per_second", p.rate_per_second);
  r.Get(prefix + ".rate_burst", p.rate_burst);
  Require(p.rate_per_second >= 0, prefix + ".rate_per_second", "must be >= 0 (0: unlimited)");
  Require(p.rate_burst >= 1, prefix + ".rate_burst", "must be >= 1");
  r.Get(prefix + ".retry_max_attempts", p.retry.max_attempts);
  Require(p.retry.max_attempts >= 1 && p.retry.max_attempts <= 20, prefix + ".retry_max_attempts",
          "must be within 1..20");
  std::int64_t base_ms = p.retry.base_delay.count(), max_ms = p.retry.max_delay.count();
  r.Get(prefix + ".retry_base_ms", base_ms);
  r.Get(prefix + ".retry_max_ms", max_ms);
  Require(base_ms >= 1 && max_ms >= base_ms, prefix + ".retry_base_ms",
          "must be >= 1 and <= retry_max_ms");
  p.retry.base_delay = std::chrono::milliseconds(base_ms);
  p.retry.max_delay = std::chrono::milliseconds(max_ms);
  r.Get(prefix + ".breaker_failure_rate", p.breaker.failure_rate);
  r.Get(prefix + ".breaker_window", p.breaker.window);
  r.Get(prefix + ".breaker_min_calls", p.breaker.min_calls);
  std::int64_t cooldown = p.breaker.cooldown.count() / 1000;
  r.Get(prefix + ".breaker_cooldown_seconds", cooldown);
  Require(p.breaker.failure_rate > 0 && p.breaker.failure_rate <= 1,
          prefix + ".breaker_failure_rate", "must be within (0, 1]");
  Require(p.breaker.window >= 1 && p.breaker.min_calls >= 1, prefix + ".breaker_window",
          "breaker_window and breaker_min_calls must be >= 1");
  Require(cooldown >= 1, prefix + ".breaker_cooldown_seconds", "must be >= 1");
  p.breaker.cooldown = std::chrono::seconds(cooldown);
  r.Get(prefix + ".replay_dir", m.replay_dir);
  r.Get(prefix + ".replay_model", m.replay_model);
  Require(m.provider != "replay" || (!m.replay_dir.empty() && !m.replay_model.empty()),
          prefix + ".replay_dir", "replay_dir and replay_model are required for provider replay");
  for (int d = 0; d < 3; ++d) {
    static const char* kNames[] = {"easy", "medium", "hard"};
    const std::string k = prefix + ".sim." + kNames[d];
    r.Get(k + "_accuracy", m.profile.accuracy[d]);
    r.Get(k + "_tokens", m.profile.tokens[d]);
    Require(m.profile.accuracy[d] >= 0 && m.profile.accuracy[d] <= 1, k + "_accuracy",
            "must be within [0, 1]");
    Require(m.profile.tokens[d] > 0, k + "_tokens", "must be > 0");
  }
  r.Get(prefix + ".sim.reasoning_share", m.profile.reasoning_share);
  r.Get(prefix + ".sim.latency_min_seconds", m.profile.latency_min_s);
  r.Get(prefix + ".sim.latency_max_seconds", m.profile.latency_max_s);
  Require(m.profile.reasoning_share >= 0 && m.profile.reasoning_share <= 1,
          prefix + ".sim.reasoning_share", "must be within [0, 1]");
  Require(m.profile.latency_min_s >= 0 && m.profile.latency_min_s <= m.profile.latency_max_s,
          prefix + ".sim.latency_min_seconds", "must be >= 0 and <= latency_max_seconds");
  // How samples relate and what the model says about itself (docs/providers.md).
  const std::pair<const char*, double*> shares[] = {
      {"same_job_correlation", &m.profile.same_job_correlation},
      {"cross_model_correlation", &m.profile.cross_model_correlation},
      {"error_correlation", &m.profile.error_correlation},
      {"slip_share", &m.profile.slip_share},
      {"slip_when_right", &m.profile.slip_when_right},
      {"confidence_right", &m.profile.confidence_right},
      {"confidence_wrong", &m.profile.confidence_wrong},
      {"confidence_spread", &m.profile.confidence_spread},
  };
  for (const auto& [name, value] : shares) {
    r.Get(prefix + ".sim." + name, *value);
    Require(*value >= 0 && *value <= 1, prefix + ".sim." + name, "must be within [0, 1]");
  }
  Require(m.profile.cross_model_correlation <= m.profile.same_job_correlation,
          prefix + ".sim.cross_model_correlation",
          "must be <= same_job_correlation (it is the part of it shared with other models)");
}

// A call's expected cost before any is measured: 1,000 output tokens at the model's price.
core::Micros ExpectedCost(const ModelConfig& m) { return m.pricing.output / 1000; }

// Its expected latency: a simulated model's mean (scaled), else 2 s, or 60 s on a queued rung.
double ExpectedLatencySeconds(const ModelConfig& m, bool queued, double time_scale) {
  if (m.provider == "sim")
    return (m.profile.latency_min_s + m.profile.latency_max_s) / 2 * time_scale;
  return queued ? 60.0 : 2.0;
}

route::Plan ReadPlan(std::string_view key, const std::string& text) {
  auto plan = route::ParsePlan(text);
  if (auto* error = std::get_if<std::string>(&plan)) Require(false, key, *error);
  return std::get<route::Plan>(plan);
}

// [ladder.<rung>], [strategy] and [thresholds.<domain>]; without them, the two-rung ladder of
// router.model and worker.model and plans that follow policy.inline_tiers and vote_tiers.
void ReadRouting(Reader& r, const toml::table& root, Config& c) {
  auto& routing = c.routing;
  std::vector<std::pair<std::string, bool>> rungs;  // name, queued by default
  if (const auto* ladder = root["ladder"].as_table()) {
    for (const auto& [k, v] : *ladder) rungs.emplace_back(std::string(k.str()), false);
  } else {
    rungs = {{"standard", false}, {"reasoning", true}};
  }
  for (const auto& [name, queued_by_default] : rungs) {
    const std::string prefix = "ladder." + name;
    route::Rung rung;
    rung.name = name;
    rung.model = name == "standard" && rungs.size() == 2 && !root["ladder"] ? c.standard_model
                 : name == "reasoning" && !root["ladder"]                   ? c.reasoning_model
                                                                            : "";
    rung.queued = queued_by_default;
    r.Get(prefix + ".model", rung.model);
    r.Get(prefix + ".queued", rung.queued);
    Require(c.models.contains(rung.model), prefix + ".model",
            "no model '" + rung.model + "' under [models]");
    const auto& model = c.models.at(rung.model);
    double cost_usd = static_cast<double>(ExpectedCost(model)) / 1e6;
    double latency_s = ExpectedLatencySeconds(model, rung.queued, c.sim_time_scale);
    r.Get(prefix + ".expected_cost_usd", cost_usd);
    r.Get(prefix + ".expected_latency_seconds", latency_s);
    Require(cost_usd >= 0 && latency_s >= 0, prefix + ".expected_*", "must be >= 0");
    rung.expected_cost = static_cast<core::Micros>(std::llround(cost_usd * 1e6));
    rung.expected_latency = std::chrono::milliseconds(std::llround(latency_s * 1000));
    routing.ladder.rungs.push_back(std::move(rung));
  }

  r.Get("strategy.sample_temperature", routing.sample_temperature);
  r.Get("strategy.answer_estimator", c.answer_estimator);
  Require(routing.sample_temperature >= 0 && routing.sample_temperature <= 2,
          "strategy.sample_temperature", "must be within [0, 2]");
  // A tier policy.inline_tiers answers inline starts with the standard rung's answer, one of
  // policy.vote_tiers with its vote, the rest on the reasoning rung.
  const auto plan_of = [&](const std::string& key, std::string_view domain, core::Tier tier) {
    std::string text;
    switch (route::Decide(c.policy, domain, tier)) {
      case route::Route::kInline:
        text = "cascade(standard) -> escalate(reasoning)";
        break;
      case route::Route::kVote:
        text = "self_consistency(standard, n=5) -> escalate(reasoning)";
        break;
      case route::Route::kReasoning:
        text = "escalate(reasoning)";
        break;
    }
    const bool set = r.Has(key);
    r.Get(key, text);
    auto plan = ReadPlan(key, text);
    if (const auto problem = route::ValidatePlan(plan, routing.ladder))
      Require(false, key,
              *problem + (set ? ""
                              : " (the default plan; with a ladder of your own, give every "
                                "tier a plan under [strategy])"));
    return plan;
  };
  for (const auto tier : core::kAllTiers) {
    const std::string name(core::ToString(tier));
    routing.plans[name] = plan_of("strategy." + name, "", tier);
  }
  for (const auto& d : c.limits.domains) {
    const bool overridden =
        c.policy.inline_tiers_by_domain.contains(d) || c.policy.vote_tiers_by_domain.contains(d);
    for (const auto tier : core::kAllTiers) {
      const std::string key = "strategy." + d + "." + std::string(core::ToString(tier));
      const bool set = r.Has(key);
      if (!set && !overridden) continue;
      routing.plans[d + "." + std::string(core::ToString(tier))] = plan_of(key, d, tier);
    }
  }

  std::vector<std::string> domains = {"default"};
  domains.insert(domains.end(), c.limits.domains.begin(), c.limits.domains.end());
  for (const auto& d : domains) {
    const std::string prefix = "thresholds." + d;
    const bool any = root.at_path(prefix).is_table() || r.Env(prefix + ".min_confidence") ||
                     r.Env(prefix + ".min_share") || r.Env(prefix + ".default_confidence");
    if (d != "default" && !any) continue;
    route::Thresholds t =
        d == "default" ? route::Thresholds{0.0, 0.5, 0.5} : routing.ThresholdsFor("default");
    r.Get(prefix + ".min_confidence", t.min_confidence);
    r.Get(prefix + ".min_share", t.min_share);
    r.Get(prefix + ".default_confidence", t.default_confidence);
    for (double v : {t.min_confidence, t.min_share, t.default_confidence})
      Require(v >= 0 && v <= 1, prefix, "thresholds must be within [0, 1]");
    routing.thresholds[d] = t;
  }
}

// A listener's HOST:PORT (port 0 picks a free one).
void ReadListen(Reader& r, std::string_view key, http::ServerOptions& server) {
  std::string listen = server.address + ":" + std::to_string(server.port);
  r.Get(key, listen);
  const auto colon = listen.rfind(':');
  Require(colon != std::string::npos && colon > 0 && colon + 1 < listen.size() &&
              listen.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
              listen.size() - colon - 1 <= 5 && std::stoi(listen.substr(colon + 1)) <= 65535,
          key, "must be HOST:PORT, got '" + listen + "'");
  server.address = listen.substr(0, colon);
  server.port = static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)));
}

}  // namespace

Config LoadConfig(const std::string& path) {
  toml::table root;
  if (!path.empty()) {
    try {
      root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << "config file " << path << ": " << e.description() << " at line "
          << e.source().begin.line;
      throw ConfigError(msg.str());
    }
  }
  Reader r(root);
  Config c;

  ReadListen(r, "api.listen", c.api);
  ReadListen(r, "admin.listen", c.admin);
  Require(c.admin.port == 0 || c.admin.port != c.api.port || c.admin.address != c.api.address,
          "admin.listen", "must differ from api.listen");
  r.Get("log.format", c.log_format);
  Require(c.log_format == "text" || c.log_format == "json", "log.format", "must be text or json");
  r.Get("log.level", c.log_level);
  Require(spdlog::level::from_str(c.log_level) != spdlog::level::off || c.log_level == "off",
          "log.level", "must be trace, debug, info, warn, error, critical or off");
  r.Get("shutdown.drain_seconds", c.drain_seconds);
  Require(c.drain_seconds >= 0 && c.drain_seconds <= 3600, "shutdown.drain_seconds",
          "must be within 0..3600");
  r.Get("api.max_body_bytes", c.api.max_body_bytes);
  r.Get("api.max_task_bytes", c.limits.max_task_bytes);
  r.Get("api.max_metadata_bytes", c.limits.max_metadata_bytes);
  Require(c.api.max_body_bytes >= 1024, "api.max_body_bytes", "must be >= 1024");
  Require(c.limits.max_task_bytes > 0 && c.limits.max_task_bytes <= c.api.max_body_bytes,
          "api.max_task_bytes", "must be > 0 and <= api.max_body_bytes");

  r.Get("postgres.dsn", c.postgres.dsn, "TRIAGE_PG_DSN");
  if (const auto password = DsnPassword(c.postgres.dsn)) c.secrets.push_back(*password);
  r.Get("postgres.pool_size", c.postgres.pool_size);
  Require(c.postgres.pool_size >= 1 && c.postgres.pool_size <= 256, "postgres.pool_size",
          "must be within 1..256");
  r.Get("postgres.idle_in_transaction_timeout_ms", c.postgres.idle_in_transaction_timeout_ms);
  Require(c.postgres.idle_in_transaction_timeout_ms >= 0, "postgres.idle_in_transaction_timeout_ms",
          "must be >= 0 (0: the server's setting)");

  r.Get("kafka.brokers", c.kafka.brokers);
  Require(!c.kafka.brokers.empty(), "kafka.brokers", "must not be empty");
  r.Get("kafka.topic_prefix", c.topic_prefix);
  Require(!c.topic_prefix.empty() && c.topic_prefix.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789._-") == std::string::npos,
          "kafka.topic_prefix", "must be non-empty and use only [A-Za-z0-9._-]");
  r.Get("kafka.jobs_partitions", c.jobs_partitions);
  r.Get("kafka.reasoning_partitions", c.reasoning_partitions);
  r.Get("kafka.session_timeout_ms", c.session_timeout_ms);
  Require(c.jobs_partitions >= 1, "kafka.jobs_partitions", "must be >= 1");
  Require(c.reasoning_partitions >= 1, "kafka.reasoning_partitions", "must be >= 1");
  r.KnowAllUnder("kafka.properties");
  if (const auto* props = r.Node("kafka.properties").as_table()) {
    for (const auto& [k, v] : *props) {
      Require(v.is_string(), "kafka.properties", "values must be strings");
      c.kafka.properties[std::string(k.str())] = *v.value<std::string>();
      const std::string name(k.str());
      if (name.find("password") != std::string::npos || name.find("secret") != std::string::npos ||
          name.find("key") != std::string::npos)
        c.secrets.push_back(*v.value<std::string>());
    }
  }

  r.Get("router.group", c.router_group);
  r.Get("router.max_in_flight", c.router_max_in_flight);
  Require(c.router_max_in_flight >= 1, "router.max_in_flight", "must be >= 1");
  r.Get("worker.group", c.worker_group);
  r.Get("worker.max_in_flight", c.worker_max_in_flight);
  Require(c.worker_max_in_flight >= 1, "worker.max_in_flight", "must be >= 1");

  std::vector<std::string> domains(c.limits.domains.begin(), c.limits.domains.end());
  r.Get("policy.domains", domains);
  Require(!domains.empty(), "policy.domains", "must list at least one domain");
  c.limits.domains = {domains.begin(), domains.end()};
  // policy.<name>_tiers and policy.domain.<domain>.<name>_tiers.
  const auto read_tiers = [&](const std::string& name, std::set<core::Tier>& tiers,
                              std::map<std::string, std::set<core::Tier>, std::less<>>& by_domain) {
    std::vector<std::string> names;
    for (auto t : tiers) names.emplace_back(core::ToString(t));
    r.Get("policy." + name, names);
    tiers = ParseTiers("policy." + name, names);
    for (const auto& d : c.limits.domains) {
      const std::string key = "policy.domain." + d + "." + name;
      if (!r.Has(key)) continue;
      std::vector<std::string> mine;
      r.Get(key, mine);
      by_domain[d] = ParseTiers(key, mine);
    }
  };
  read_tiers("inline_tiers", c.policy.inline_tiers, c.policy.inline_tiers_by_domain);
  read_tiers("vote_tiers", c.policy.vote_tiers, c.policy.vote_tiers_by_domain);
  r.Get("policy.confidence_cut", c.policy.confidence_cut);
  Require(c.policy.confidence_cut >= 0 && c.policy.confidence_cut <= 1, "policy.confidence_cut",
          "must be within [0, 1]");

  c.models["sim-standard"] = DefaultModel("sim-standard", false);
  c.models["sim-reasoning"] = DefaultModel("sim-reasoning", true);
  if (const auto* models = root["models"].as_table()) {
    for (const auto& [k, v] : *models) {
      const std::string name(k.str());
      if (!c.models.contains(name)) c.models[name] = DefaultModel(name, false);
    }
  }
  for (auto& [name, model] : c.models) ReadModel(r, "models." + name, model);
  r.Get("router.model", c.standard_model);
  r.Get("worker.model", c.reasoning_model);
  Require(c.models.contains(c.standard_model), "router.model",
          "no model '" + c.standard_model + "' under [models]");
  Require(c.models.contains(c.reasoning_model), "worker.model",
          "no model '" + c.reasoning_model + "' under [models]");
  r.Get("sim.seed", c.sim_seed);
  r.Get("sim.time_scale", c.sim_time_scale);
  Require(c.sim_time_scale > 0 && c.sim_time_scale <= 100, "sim.time_scale",
          "must be within (0, 100]");
  ReadRouting(r, root, c);
  for (const auto& [name, model] : c.models)
    for (const auto& f : model.fallbacks)
      Require(c.models.contains(f) && f != name, "models." + name + ".fallbacks",
              "no model '" + f + "' under [models] (or the model itself)");

  for (const char* provider : {"openai", "anthropic", "openai-compatible", "replay", "sim"}) {
    std::size_t limit = 0;
    r.Get(std::string("providers.") + provider + ".max_concurrency", limit);
    if (limit > 0) c.provider_max_concurrency[provider] = limit;
  }

  r.Get("cache.enabled", c.cache.enabled);
  r.Get("cache.postgres", c.cache.postgres);
  r.Get("cache.memory_bytes", c.cache.memory_bytes);
  r.Get("cache.ttl_seconds", c.cache.ttl_seconds);
  Require(c.cache.ttl_seconds >= -1, "cache.ttl_seconds", "must be -1 (forever), 0 (off) or more");
  for (const auto& d : c.limits.domains) {
    const std::string key = "cache.domain_ttl." + d;
    std::string text;
    if (const char* env = r.Env(key)) {
      text = env;
    } else if (auto node = r.Node(key)) {
      if (auto s = node.value<std::string>())
        text = *s;
      else if (auto i = node.value<std::int64_t>())
        text = std::to_string(*i);
      else
        Require(false, key, "must be seconds or \"forever\"");
    } else {
      continue;
    }
    std::int64_t seconds = -1;
    if (text != "forever") {
      char* end = nullptr;
      seconds = std::strtoll(text.c_str(), &end, 10);
      Require(!text.empty() && end && *end == '\0' && seconds >= -1, key,
              "must be seconds (-1 or \"forever\": forever, 0: off), got '" + text + "'");
    }
    c.cache.domain_ttl_seconds[d] = seconds;
  }

  r.Get("notify.max_attempts", c.webhook_retry.max_attempts);
  std::int64_t first_retry_ms = c.webhook_retry.first_delay.count();
  r.Get("notify.first_retry_ms", first_retry_ms);
  c.webhook_retry.first_delay = std::chrono::milliseconds(first_retry_ms);
  r.Get("notify.timeout_ms", c.webhook_timeout_ms);
  r.Get("notify.max_in_flight", c.notify_max_in_flight);
  r.Get("notify.poll_ms", c.notify_poll_ms);
  Require(c.webhook_retry.max_attempts >= 1, "notify.max_attempts", "must be >= 1");
  Require(first_retry_ms >= 1, "notify.first_retry_ms", "must be >= 1");
  Require(c.webhook_timeout_ms >= 100, "notify.timeout_ms", "must be >= 100");
  Require(c.notify_max_in_flight >= 1, "notify.max_in_flight", "must be >= 1");
  Require(c.notify_poll_ms >= 1, "notify.poll_ms", "must be >= 1");
  // The signing secret never comes from the config file itself: env, or a file it names.
  std::string secret, secret_file;
  if (const char* env = r.EnvVar("TRIAGE_WEBHOOK_SECRET")) secret = env;
  r.Get("notify.secret_file", secret_file);
  if (secret.empty() && !secret_file.empty()) {
    std::ifstream in(secret_file);
    Require(static_cast<bool>(in), "notify.secret_file", "cannot read " + secret_file);
    std::getline(in, secret);
  }
  if (!secret.empty()) {
    c.secrets.push_back(secret);
    c.webhook_key = notify::DecodeSecret(secret);
    Require(c.webhook_key.has_value(), "notify.secret_file / TRIAGE_WEBHOOK_SECRET",
            "must be whsec_ followed by base64");
  }

  r.Get("reaper.lease_margin_seconds", c.lease_margin_seconds);
  Require(c.lease_margin_seconds >= 1, "reaper.lease_margin_seconds", "must be >= 1");
  r.Get("reaper.lease_check_seconds", c.lease_check_seconds);
  Require(c.lease_check_seconds >= 1, "reaper.lease_check_seconds", "must be >= 1");
  r.Get("reaper.interval_seconds", c.reaper_interval_seconds);
  r.Get("reaper.grace_seconds", c.reaper_grace_seconds);
  Require(c.reaper_interval_seconds >= 1, "reaper.interval_seconds", "must be >= 1");
  Require(c.reaper_grace_seconds >= 1, "reaper.grace_seconds", "must be >= 1");
  r.Get("metrics.sample_interval_ms", c.metrics_sample_interval_ms);
  Require(c.metrics_sample_interval_ms >= 100, "metrics.sample_interval_ms", "must be >= 100");
  if (!path.empty()) r.RejectUnknownKeys(path);
  c.unread_env = r.UnreadEnvironment(environ);
  return c;
}

}  // namespace triage::app
