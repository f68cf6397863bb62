#include "replay/profiles.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

#include "core/draw.hpp"

namespace triage::replay {
namespace {

// The standard normal's 95th percentile.
constexpr double kZ95 = 1.6448536269514722;

std::string At(const toml::node& node) {
  return " (line " + std::to_string(node.source().begin.line) + ")";
}

ModelProfile ReadProfile(const std::string& origin, const std::string& model,
                         const toml::table& table) {
  ModelProfile p;
  p.model = model;
  p.name = model;
  const std::string where = origin + ": [models.\"" + model + "\"]";
  auto fail = [&](const std::string& key, const toml::node& node, const std::string& what) {
    throw ReplayError("replay profiles: " + where + " key `" + key + "`" + At(node) + ": " + what);
  };
  for (const auto& [k, node] : table) {
    const std::string key(k.str());
    auto text = [&](std::string& out) {
      if (!node.is_string()) fail(key, node, "must be a string");
      out = *node.value<std::string>();
    };
    auto number = [&](std::optional<double>& out) {
      const auto v = node.is_number() ? node.value<double>() : std::nullopt;
      if (!v) fail(key, node, "must be a number");
      if (!std::isfinite(*v) || *v < 0) fail(key, node, "must be a finite number >= 0");
      out = *v;
    };
    if (key == "name")
      text(p.name);
    else if (key == "role")
      text(p.role);
    else if (key == "source")
      text(p.source);
    else if (key == "input_usd_per_mtok")
      number(p.input_usd_per_mtok);
    else if (key == "output_usd_per_mtok")
      number(p.output_usd_per_mtok);
    else if (key == "input_tokens")
      number(p.input_tokens);
    else if (key == "output_tokens")
      number(p.output_tokens);
    else if (key == "latency_p50_s")
      number(p.latency_p50_s);
    else if (key == "latency_p95_s")
      number(p.latency_p95_s);
    else
      fail(key, node,
           "unknown key (known: name, role, source, input_usd_per_mtok, output_usd_per_mtok, "
           "input_tokens, output_tokens, latency_p50_s, latency_p95_s)");
  }
  if (p.latency_p95_s && (!p.latency_p50_s || *p.latency_p95_s < *p.latency_p50_s))
    throw ReplayError("replay profiles: " + where +
                      ": latency_p95_s needs latency_p50_s, and must not be below it");
  return p;
}

}  // namespace

const ModelProfile* Profiles::Find(std::string_view model) const {
  for (const auto& p : models)
    if (p.model == model) return &p;
  return nullptr;
}

Profiles ParseProfiles(std::string_view toml_text, std::string origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    throw ReplayError("replay profiles: " + origin + " (line " +
                      std::to_string(e.source().begin.line) + "): " + std::string(e.description()));
  }
  Profiles out;
  out.origin = origin;
  for (const auto& [k, node] : root) {
    const std::string key(k.str());
    if (key != "models" || !node.is_table())
      throw ReplayError("replay profiles: " + origin + ": unknown top-level key `" + key + "`" +
                        At(node) + " (a profile is a table [models.\"<model name>\"])");
    // Iterated, not looked up by dotted path: model names hold dots ("Claude-3.5-Sonnet").
    for (const auto& [name, table] : *node.as_table()) {
      const std::string model(name.str());
      if (!table.is_table())
        throw ReplayError("replay profiles: " + origin + ": models.\"" + model + "\"" + At(table) +
                          " must be a table of the model's figures");
      out.models.push_back(ReadProfile(origin, model, *table.as_table()));
    }
  }
  return out;
}

Profiles LoadProfiles(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReplayError("replay profiles: cannot read " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseProfiles(buffer.str(), path.string());
}

std::vector<ModelProfile> ProfilesFor(const Profiles& profiles, const ReplaySet& set) {
  std::vector<ModelProfile> out;
  for (const auto& model : set.models) {
    const auto* p = profiles.Find(model);
    if (!p)
      throw ReplayError("replay profiles: " + profiles.origin + " has no profile for model `" +
                        model + "` of " + set.dir.string() + ". Hint: add [models.\"" + model +
                        "\"] with its prices, tokens and latency");
    out.push_back(*p);
  }
  for (const auto& o : set.outcomes) {
    const auto* p = profiles.Find(o.model);
    auto lacks = [&](const char* what, const char* key) {
      throw ReplayError("replay profiles: outcomes.jsonl:" + std::to_string(o.line) + " (model `" +
                        o.model + "`) records no " + what + ", and " + profiles.origin +
                        " gives no `" + key + "` for that model");
    };
    if (!o.cost_usd) {
      if (!p->input_usd_per_mtok) lacks("cost_usd", "input_usd_per_mtok");
      if (!p->output_usd_per_mtok) lacks("cost_usd", "output_usd_per_mtok");
      if (!o.input_tokens && !p->input_tokens) lacks("cost_usd or input_tokens", "input_tokens");
      if (!o.output_tokens && !p->output_tokens)
        lacks("cost_usd or output_tokens", "output_tokens");
    }
    if (!o.latency_s && !p->latency_p50_s) lacks("latency_s", "latency_p50_s");
  }
  return out;
}

CallTokens TokensOf(const ModelProfile& profile, const Outcome& outcome) {
  CallTokens t;
  t.input = outcome.input_tokens ? static_cast<double>(*outcome.input_tokens)
                                 : profile.input_tokens.value_or(0);
  t.output = outcome.output_tokens ? static_cast<double>(*outcome.output_tokens)
                                   : profile.output_tokens.value_or(0);
  return t;
}

double CallCost(const ModelProfile& profile, const Outcome& outcome) {
  if (outcome.cost_usd) return *outcome.cost_usd;
  const auto t = TokensOf(profile, outcome);
  return (t.input * profile.input_usd_per_mtok.value_or(0) +
          t.output * profile.output_usd_per_mtok.value_or(0)) /
         1e6;
}

double CallLatency(const ModelProfile& profile, const Outcome& outcome, std::uint64_t seed,
                   int sample) {
  if (outcome.latency_s) return *outcome.latency_s;
  const double p50 = profile.latency_p50_s.value_or(0);
  if (!profile.latency_p95_s || *profile.latency_p95_s <= p50 || p50 <= 0) return p50;
  // A standard normal from two hashed uniforms (Box-Muller), then the log-normal through p50/p95.
  const std::string key = "latency\x1f" + std::to_string(seed) + '\x1f' + outcome.item + '\x1f' +
                          outcome.model + '\x1f' + std::to_string(sample);
  const double u1 = 1.0 - core::UniformDraw(key +
                                            "\x1f"
                                            "1");  // (0, 1]: log is finite
  const double u2 = core::UniformDraw(key +
                                      "\x1f"
                                      "2");
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  const double sigma = std::log(*profile.latency_p95_s / p50) / kZ95;
  return p50 * std::exp(sigma * z);
}

}  // namespace triage::replay
