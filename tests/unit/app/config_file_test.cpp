// config/triage.toml against LoadConfig: every key the file sets (and every key its comments
// document) lands in Config with the documented value, every one of them is read (an altered copy
// of the file changes each field), and a key the loader does not know is an error. The file is
// parsed here with toml++ on its own, so the expected values come from the file, not the loader.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <toml++/toml.h>

#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "app/config.hpp"

extern char** environ;

namespace triage::app {
namespace {

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

std::string Show(const Value& v) {
  std::ostringstream out;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          out << '[';
          for (size_t i = 0; i < x.size(); ++i) out << (i ? ", " : "") << '"' << x[i] << '"';
          out << ']';
        } else if constexpr (std::is_same_v<T, std::string>) {
          out << '"' << x << '"';
        } else {
          out << std::boolalpha << x;
        }
      },
      v);
  return out.str();
}

// Integers and floats compare by value: `price_input = 3` documents the same as `3.0`.
bool Same(const Value& a, const Value& b) {
  auto number = [](const Value& v) -> std::optional<double> {
    if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (auto* d = std::get_if<double>(&v)) return *d;
    return std::nullopt;
  };
  if (number(a) && number(b)) return *number(a) == *number(b);
  return a == b;
}

std::optional<Value> FromToml(const toml::node& n) {
  if (auto v = n.value_exact<bool>()) return *v;
  if (auto v = n.value_exact<std::int64_t>()) return *v;
  if (auto v = n.value_exact<double>()) return *v;
  if (auto v = n.value_exact<std::string>()) return *v;
  if (const auto* array = n.as_array()) {
    std::vector<std::string> items;
    for (const auto& item : *array) {
      if (!item.is_string()) return std::nullopt;
      items.push_back(*item.value<std::string>());
    }
    return items;
  }
  return std::nullopt;
}

// Sets `path` (dot-separated, no quoted parts) in `root`, creating tables on the way.
void Set(toml::table& root, const std::string& path, const Value& value) {
  toml::table* table = &root;
  std::string rest = path;
  for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    const auto part = rest.substr(0, dot);
    if (!table->get_as<toml::table>(part)) table->insert_or_assign(part, toml::table{});
    table = table->get_as<toml::table>(part);
    rest = rest.substr(dot + 1);
  }
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          toml::array array;
          for (const auto& item : x) array.push_back(item);
          table->insert_or_assign(rest, std::move(array));
        } else {
          table->insert_or_assign(rest, x);
        }
      },
      value);
}

// Every value (not table) under `table`, by dotted path.
void Leaves(const toml::table& table, const std::string& prefix,
            std::map<std::string, const toml::node*>& out) {
  for (const auto& [key, node] : table) {
    const auto path = prefix + std::string(key.str());
    if (const auto* sub = node.as_table())
      Leaves(*sub, path + ".", out);
    else
      out[path] = &node;
  }
}

// One config key: how to read its value back out of Config (in the file's units), and a valid
// value unlike the documented one for the altered copy of the file.
struct Key {
  std::string path;
  std::function<Value(const Config&)> get;
  Value alt;
  std::optional<Value> loaded_alt = std::nullopt;  // what `get` gives for `alt`, if not `alt`
};

Value Int(std::int64_t v) { return v; }
std::vector<std::string> Names(const std::set<core::Tier>& tiers) {
  std::vector<std::string> out;
  for (auto t : tiers) out.emplace_back(core::ToString(t));
  return out;
}
double Usd(core::Micros micros) { return static_cast<double>(micros) / 1e6; }

// The keys of one model: those the file sets and those its comments document for every model.
std::vector<Key> ModelKeys(const std::string& name, const std::string& other_model) {
  const std::string p = "models." + name + ".";
  auto m = [name](const Config& c) -> const ModelConfig& { return c.models.at(name); };
  std::vector<Key> keys = {
      {p + "provider", [=](const Config& c) { return Value(m(c).provider); }, "openai"},
      {p + "price_input", [=](const Config& c) { return Value(Usd(m(c).pricing.input)); }, 2.5},
      {p + "price_output", [=](const Config& c) { return Value(Usd(m(c).pricing.output)); }, 4.5},
      {p + "price_cached_input",
       [=](const Config& c) { return Value(Usd(m(c).pricing.cached_input)); }, 0.25},
      {p + "price_reasoning",
       [=](const Config& c) {
         return Value(m(c).pricing.reasoning ? Usd(*m(c).pricing.reasoning) : -1.0);
       },
       8.8},
      {p + "price_cached_write",
       [=](const Config& c) {
         return Value(m(c).pricing.cached_write ? Usd(*m(c).pricing.cached_write) : -1.0);
       },
       3.75},
      {p + "timeout_seconds", [=](const Config& c) { return Int(m(c).timeout_seconds); }, Int(45)},
      {p + "model", [=](const Config& c) { return Value(m(c).model_id); }, "gpt-4o-mini"},
      {p + "base_url", [=](const Config& c) { return Value(m(c).base_url); },
       "http://127.0.0.1:11434/v1"},
      {p + "api_key_env", [=](const Config& c) { return Value(m(c).api_key_env); }, "MY_KEY"},
      {p + "api_key_file", [=](const Config& c) { return Value(m(c).api_key_file); }, "key.txt"},
      {p + "anthropic_version", [=](const Config& c) { return Value(m(c).anthropic_version); },
       "2024-01-01"},
      {p + "require_usage", [=](const Config& c) { return Value(m(c).require_usage); }, false},
      {p + "max_tokens", [=](const Config& c) { return Int(m(c).max_tokens); }, Int(1000)},
      {p + "temperature", [=](const Config& c) { return Value(m(c).temperature.value_or(-1.0)); },
       0.7},
      {p + "reasoning_effort", [=](const Config& c) { return Value(m(c).reasoning_effort); },
       "high"},
      {p + "logprobs", [=](const Config& c) { return Value(m(c).logprobs); }, true},
      {p + "thinking_budget", [=](const Config& c) { return Int(m(c).thinking_budget); },
       Int(2048)},
      {p + "fallbacks", [=](const Config& c) { return Value(m(c).fallbacks); },
       std::vector<std::string>{other_model}},
      {p + "max_concurrency",
       [=](const Config& c) { return Int(static_cast<std::int64_t>(m(c).policy.max_concurrency)); },
       Int(4)},
      {p + "rate_per_second", [=](const Config& c) { return Value(m(c).policy.rate_per_second); },
       2.5},
      {p + "rate_burst", [=](const Config& c) { return Int(m(c).policy.rate_burst); }, Int(3)},
      {p + "retry_max_attempts",
       [=](const Config& c) { return Int(m(c).policy.retry.max_attempts); }, Int(5)},
      {p + "retry_base_ms",
       [=](const Config& c) { return Int(m(c).policy.retry.base_delay.count()); }, Int(100)},
      {p + "retry_max_ms",
       [=](const Config& c) { return Int(m(c).policy.retry.max_delay.count()); }, Int(5000)},
      {p + "breaker_window", [=](const Config& c) { return Int(m(c).policy.breaker.window); },
       Int(10)},
      {p + "breaker_min_calls", [=](const Config& c) { return Int(m(c).policy.breaker.min_calls); },
       Int(4)},
      {p + "breaker_failure_rate",
       [=](const Config& c) { return Value(m(c).policy.breaker.failure_rate); }, 0.25},
      {p + "breaker_cooldown_seconds",
       [=](const Config& c) {
         return Int(std::chrono::duration_cast<std::chrono::seconds>(m(c).policy.breaker.cooldown)
                        .count());
       },
       Int(12)},
      {p + "replay_dir", [=](const Config& c) { return Value(m(c).replay_dir); }, "replays"},
      {p + "replay_model", [=](const Config& c) { return Value(m(c).replay_model); }, "gpt-x"},
      {p + "sim.reasoning_share",
       [=](const Config& c) { return Value(m(c).profile.reasoning_share); }, 0.5},
      {p + "sim.latency_min_seconds",
       [=](const Config& c) { return Value(m(c).profile.latency_min_s); }, 1.0},
      {p + "sim.latency_max_seconds",
       [=](const Config& c) { return Value(m(c).profile.latency_max_s); }, 3.0},
  };
  const char* difficulty[] = {"easy", "medium", "hard"};
  for (int d = 0; d < 3; ++d) {
    keys.push_back({p + "sim." + difficulty[d] + "_accuracy",
                    [=](const Config& c) { return Value(m(c).profile.accuracy[d]); }, 0.5});
    keys.push_back({p + "sim." + difficulty[d] + "_tokens",
                    [=](const Config& c) { return Int(m(c).profile.tokens[d]); }, Int(111 + d)});
  }
  return keys;
}

// Every key the loader reads. `secret_file` is the path of a file holding a valid secret.
std::vector<Key> AllKeys(const std::string& secret_file, const std::string& secret_bytes) {
  std::vector<Key> keys = {
      {"api.listen",
       [](const Config& c) { return Value(c.api.address + ":" + std::to_string(c.api.port)); },
       "127.0.0.2:9090"},
      {"admin.listen",
       [](const Config& c) { return Value(c.admin.address + ":" + std::to_string(c.admin.port)); },
       "0.0.0.0:9102"},
      {"shutdown.drain_seconds", [](const Config& c) { return Int(c.drain_seconds); }, Int(5)},
      {"api.max_body_bytes",
       [](const Config& c) { return Int(static_cast<std::int64_t>(c.api.max_body_bytes)); },
       Int(2 << 20)},
      {"api.max_task_bytes",
       [](const Config& c) { return Int(static_cast<std::int64_t>(c.limits.max_task_bytes)); },
       Int(100'000)},
      {"api.max_metadata_bytes",
       [](const Config& c) { return Int(static_cast<std::int64_t>(c.limits.max_metadata_bytes)); },
       Int(30'000)},
      {"postgres.dsn", [](const Config& c) { return Value(c.postgres.dsn); },
       "host=db.invalid port=1"},
      {"postgres.pool_size", [](const Config& c) { return Int(c.postgres.pool_size); }, Int(3)},
      {"postgres.idle_in_transaction_timeout_ms",
       [](const Config& c) { return Int(c.postgres.idle_in_transaction_timeout_ms); }, Int(5'000)},
      {"kafka.brokers", [](const Config& c) { return Value(c.kafka.brokers); }, "127.0.0.1:29092"},
      {"kafka.topic_prefix", [](const Config& c) { return Value(c.topic_prefix); }, "tri"},
      {"kafka.jobs_partitions", [](const Config& c) { return Int(c.jobs_partitions); }, Int(3)},
      {"kafka.reasoning_partitions", [](const Config& c) { return Int(c.reasoning_partitions); },
       Int(2)},
      {"kafka.session_timeout_ms", [](const Config& c) { return Int(c.session_timeout_ms); },
       Int(6000)},
      {"kafka.properties.acks",  // [kafka.properties] takes any librdkafka property
       [](const Config& c) {
         const auto it = c.kafka.properties.find("acks");
         return Value(it == c.kafka.properties.end() ? "" : it->second);
       },
       "all"},
      {"router.group", [](const Config& c) { return Value(c.router_group); }, "r2"},
      {"router.max_in_flight",
       [](const Config& c) { return Int(static_cast<std::int64_t>(c.router_max_in_flight)); },
       Int(7)},
      {"router.model", [](const Config& c) { return Value(c.standard_model); }, "sim-reasoning"},
      {"worker.group", [](const Config& c) { return Value(c.worker_group); }, "w2"},
      {"worker.max_in_flight",
       [](const Config& c) { return Int(static_cast<std::int64_t>(c.worker_max_in_flight)); },
       Int(9)},
      {"worker.model", [](const Config& c) { return Value(c.reasoning_model); }, "sim-standard"},
      {"policy.domains",
       [](const Config& c) {
         return Value(std::vector<std::string>(c.limits.domains.begin(), c.limits.domains.end()));
       },
       std::vector<std::string>{"code", "general", "math", "writing"}},
      {"policy.inline_tiers", [](const Config& c) { return Value(Names(c.policy.inline_tiers)); },
       std::vector<std::string>{"trivial", "easy", "medium"}},
      {"policy.domain.writing.inline_tiers",
       [](const Config& c) {
         const auto it = c.policy.inline_tiers_by_domain.find("writing");
         return Value(it == c.policy.inline_tiers_by_domain.end() ? std::vector<std::string>{}
                                                                  : Names(it->second));
       },
       std::vector<std::string>{"trivial", "easy", "medium", "hard"}},
      {"policy.vote_tiers", [](const Config& c) { return Value(Names(c.policy.vote_tiers)); },
       std::vector<std::string>{"hard"}},
      {"policy.domain.writing.vote_tiers",
       [](const Config& c) {
         const auto it = c.policy.vote_tiers_by_domain.find("writing");
         return Value(it == c.policy.vote_tiers_by_domain.end() ? std::vector<std::string>{"unset"}
                                                                : Names(it->second));
       },
       std::vector<std::string>{"medium"}},
      {"strategy.sample_temperature",
       [](const Config& c) { return Value(c.routing.sample_temperature); }, 0.3},
      {"log.format", [](const Config& c) { return Value(c.log_format); }, "json"},
      {"log.level", [](const Config& c) { return Value(c.log_level); }, "debug"},
      {"strategy.answer_estimator", [](const Config& c) { return Value(c.answer_estimator); },
       "models/router_mine_after.bin"},
      {"thresholds.default.min_confidence",
       [](const Config& c) { return Value(c.routing.ThresholdsFor("x").min_confidence); }, 0.25},
      {"thresholds.default.min_share",
       [](const Config& c) { return Value(c.routing.ThresholdsFor("x").min_share); }, 0.75},
      {"thresholds.default.default_confidence",
       [](const Config& c) { return Value(c.routing.ThresholdsFor("x").default_confidence); }, 0.4},
      {"policy.confidence_cut", [](const Config& c) { return Value(c.policy.confidence_cut); },
       0.5},
      {"cache.enabled", [](const Config& c) { return Value(c.cache.enabled); }, false},
      {"cache.postgres", [](const Config& c) { return Value(c.cache.postgres); }, false},
      {"cache.memory_bytes",
       [](const Config& c) { return Int(static_cast<std::int64_t>(c.cache.memory_bytes)); },
       Int(1 << 20)},
      {"cache.ttl_seconds", [](const Config& c) { return Int(c.cache.ttl_seconds); }, Int(60)},
      {"sim.seed", [](const Config& c) { return Int(static_cast<std::int64_t>(c.sim_seed)); },
       Int(7)},
      {"sim.time_scale", [](const Config& c) { return Value(c.sim_time_scale); }, 0.05},
      {"notify.max_attempts", [](const Config& c) { return Int(c.webhook_retry.max_attempts); },
       Int(3)},
      {"notify.first_retry_ms",
       [](const Config& c) { return Int(c.webhook_retry.first_delay.count()); }, Int(250)},
      {"notify.timeout_ms", [](const Config& c) { return Int(c.webhook_timeout_ms); }, Int(2000)},
      {"notify.max_in_flight",
       [](const Config& c) { return Int(static_cast<std::int64_t>(c.notify_max_in_flight)); },
       Int(5)},
      {"notify.poll_ms", [](const Config& c) { return Int(c.notify_poll_ms); }, Int(40)},
      {"notify.secret_file",  // read back as the key it holds: the path is not kept
       [](const Config& c) { return Value(c.webhook_key.value_or("")); }, secret_file,
       secret_bytes},
      {"reaper.interval_seconds", [](const Config& c) { return Int(c.reaper_interval_seconds); },
       Int(2)},
      {"reaper.grace_seconds", [](const Config& c) { return Int(c.reaper_grace_seconds); },
       Int(11)},
      {"reaper.lease_margin_seconds", [](const Config& c) { return Int(c.lease_margin_seconds); },
       Int(12)},
      {"reaper.lease_check_seconds", [](const Config& c) { return Int(c.lease_check_seconds); },
       Int(3)},
      {"metrics.sample_interval_ms",
       [](const Config& c) { return Int(c.metrics_sample_interval_ms); }, Int(250)},
  };
  for (const char* provider : {"openai", "anthropic"}) {
    keys.push_back({std::string("providers.") + provider + ".max_concurrency",
                    [provider](const Config& c) {
                      const auto it = c.provider_max_concurrency.find(provider);
                      return Int(it == c.provider_max_concurrency.end()
                                     ? 0
                                     : static_cast<std::int64_t>(it->second));
                    },
                    Int(6)});
  }
  for (const char* domain : {"math", "general"}) {
    keys.push_back({std::string("cache.domain_ttl.") + domain,
                    [domain](const Config& c) {
                      const auto it = c.cache.domain_ttl_seconds.find(domain);
                      return Int(it == c.cache.domain_ttl_seconds.end() ? -2 : it->second);
                    },
                    Int(3600)});
  }
  keys.back().alt = "forever";  // the documented spelling of -1
  keys.back().loaded_alt = Int(-1);
  for (const auto& [model, other] :
       {std::pair{"sim-standard", "sim-reasoning"}, std::pair{"sim-reasoning", "sim-standard"}})
    for (auto& k : ModelKeys(model, other)) keys.push_back(std::move(k));
  return keys;
}

// Config takes TRIAGE_* variables over the file: none may leak in from the shell running the
// tests (README: `make test` with TRIAGE_PG_DSN set uses your database).
class NoTriageEnvironment {
 public:
  NoTriageEnvironment() {
    for (char** e = environ; *e; ++e) {
      const std::string entry = *e;
      if (entry.rfind("TRIAGE_", 0) == 0) saved_.push_back(entry);
    }
    for (const auto& entry : saved_) unsetenv(entry.substr(0, entry.find('=')).c_str());
  }
  ~NoTriageEnvironment() {
    for (const auto& entry : saved_) {
      const auto eq = entry.find('=');
      setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
    }
  }

 private:
  std::vector<std::string> saved_;
};

const std::string kDocumented = std::string(TRIAGE_SOURCE_DIR) + "/config/triage.toml";

// The per-model keys the file documents in comments ("Keys of every model (defaults shown as
// comments)"), parsed as the TOML they are once the leading "#   " is taken off.
toml::table DocumentedModelDefaults() {
  std::ifstream in(kDocumented);
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("# Keys of every model", 0) == 0) {
      inside = true;
    } else if (inside && line == "#") {
      break;
    } else if (inside && line.rfind("#   ", 0) == 0 && line.size() > 4 && line[4] != ' ') {
      block += line.substr(4) + "\n";
    }
  }
  return toml::parse(block);
}

Key Find(const std::vector<Key>& keys, const std::string& path) {
  for (const auto& k : keys)
    if (k.path == path) return k;
  ADD_FAILURE() << "`" << path << "` is documented in config/triage.toml but not checked here";
  return {path, [](const Config&) { return Value(""); }, ""};
}

TEST(ConfigFile, EveryKeyTheFileDocumentsLoadsWithTheDocumentedValue) {
  NoTriageEnvironment clean;
  const auto file = toml::parse_file(kDocumented);
  std::map<std::string, const toml::node*> documented;
  Leaves(file, "", documented);
  const auto model_defaults = DocumentedModelDefaults();
  ASSERT_GE(model_defaults.size(), 20u) << "the per-model key block was not found";
  std::map<std::string, Value> expected;
  for (const auto& [path, node] : documented) {
    const auto value = FromToml(*node);
    ASSERT_TRUE(value) << path << " has a type no key takes";
    expected[path] = *value;
  }
  const auto* models = file["models"].as_table();
  ASSERT_TRUE(models);
  for (const auto& [model, _] : *models)
    for (const auto& [key, node] : model_defaults)
      expected["models." + std::string(model.str()) + "." + std::string(key.str())] =
          *FromToml(node);
  ASSERT_GE(expected.size(), 100u);

  const auto keys = AllKeys("", "");
  const auto loaded = LoadConfig(kDocumented);
  const auto defaults = LoadConfig("");  // the file says its values are the embedded defaults
  for (const auto& [path, value] : expected) {
    const auto key = Find(keys, path);
    EXPECT_TRUE(Same(key.get(loaded), value))
        << path << ": documented " << Show(value) << ", loaded " << Show(key.get(loaded));
    EXPECT_TRUE(Same(key.get(defaults), value)) << path << ": documented " << Show(value)
                                                << ", embedded default " << Show(key.get(defaults));
  }
}

TEST(ConfigFile, EveryKeyIsReadFromTheFile) {
  NoTriageEnvironment clean;
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const auto secret_file = testing::TempDir() + "webhook_secret";
  std::ofstream(secret_file) << secret << "\n";
  const auto keys = AllKeys(secret_file, *notify::DecodeSecret(secret));
  const auto documented = LoadConfig(kDocumented);
  // The documented file with every key, documented or commented out, set to another value.
  auto altered = toml::parse_file(kDocumented);
  for (const auto& k : keys) {
    EXPECT_FALSE(Same(k.get(documented), k.loaded_alt.value_or(k.alt)))
        << k.path << ": the altered value " << Show(k.alt) << " is the documented one";
    Set(altered, k.path, k.alt);
  }
  const auto path = testing::TempDir() + "altered_triage.toml";
  std::ofstream(path) << altered << "\n";
  const auto loaded = LoadConfig(path);
  for (const auto& k : keys) {
    const auto want = k.loaded_alt.value_or(k.alt);
    EXPECT_TRUE(Same(k.get(loaded), want))
        << k.path << " = " << Show(k.alt) << " in the file, loaded " << Show(k.get(loaded));
  }
}

TEST(ConfigFile, AnUnknownKeyIsAnErrorNamingTheKeyAndTheFile) {
  NoTriageEnvironment clean;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[api]\nlistn = \"127.0.0.1:9000\"\n", "api.listn"},
      {"[apii]\nlisten = \"127.0.0.1:9000\"\n", "apii.listen"},
      {"sim_seed = 1\n", "sim_seed"},
      {"[models.sim-standard]\nprice_inptu = 1.0\n", "models.sim-standard.price_inptu"},
      {"[models.sim-reasoning.sim]\nhard_acuracy = 0.5\n", "models.sim-reasoning.sim.hard_acuracy"},
      {"[models.mine]\nprovider = \"sim\"\ntimeout = 5\n", "models.mine.timeout"},
      {"[cache.domain_ttl]\nmaths = 60\n", "cache.domain_ttl.maths"},  // not in policy.domains
      {"[policy.domain.poetry]\ninline_tiers = [\"easy\"]\n", "policy.domain.poetry.inline_tiers"},
      {"[providers.openia]\nmax_concurrency = 2\n", "providers.openia.max_concurrency"},
  };
  int n = 0;
  for (const auto& [text, key] : cases) {
    const auto path = testing::TempDir() + "unknown_" + std::to_string(n++) + ".toml";
    std::ofstream(path) << text;
    try {
      LoadConfig(path);
      ADD_FAILURE() << "`" << key << "` was accepted";
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("`" + key + "`"), std::string::npos) << what;
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_NE(what.find("unknown key"), std::string::npos) << what;
    }
  }
  // [kafka.properties] passes any librdkafka property through.
  const auto path = testing::TempDir() + "properties.toml";
  std::ofstream(path) << "[kafka.properties]\n\"client.id\" = \"triage-test\"\n";
  EXPECT_EQ(LoadConfig(path).kafka.properties.at("client.id"), "triage-test");
}

}  // namespace
}  // namespace triage::app
