// `sim`: a simulated model whose correctness, tokens and latency follow a configured profile
// by difficulty (defaults: the seed document's table). Deterministic: the same seed, job, model
// and attempt always give the same answer, usage and latency. Latency is real waiting (an
// asio timer), multiplied by `time_scale`; responses are marked simulated.
#pragma once
#include <array>
#include <string>

#include "providers/model_client.hpp"

namespace triage::providers {

enum class SimDifficulty { kEasy = 0, kMedium, kHard };
// easy | medium | hard; anything else is nothing.
std::optional<SimDifficulty> ParseSimDifficulty(std::string_view name);
SimDifficulty SimDifficultyForTier(core::Tier tier);

struct SimProfile {
  std::array<double, 3> accuracy{};           // P(correct) on easy, medium, hard
  std::array<std::int64_t, 3> tokens{};       // mean billed output tokens
  double reasoning_share = 0;                 // part of the tokens that is hidden reasoning
  double latency_min_s = 0, latency_max_s = 0;
};
SimProfile StandardSimProfile();   // 0.95/0.60/0.20, 500/800/1000 tokens, 0.5–2 s
SimProfile ReasoningSimProfile();  // 0.98/0.87/0.72, 3000/5000/8000 tokens, 15–120 s

struct SimOptions {
  std::string name;
  SimProfile profile;
  Pricing pricing;
  std::uint64_t seed = 42;  // `sim.seed`
  double time_scale = 1.0;  // `sim.time_scale`: 0.01 turns 120 s into 1.2 s
};

// What the simulation decides for one call, without waiting: pure, for tests and the sim.
struct SimOutcome {
  bool correct = false;
  std::string answer;
  core::Usage usage;
  std::chrono::milliseconds latency{0};  // already scaled
  double confidence = 0;
};
SimOutcome Simulate(const SimOptions& options, const ModelRequest& request);

class SimModel final : public ModelClient {
 public:
  explicit SimModel(SimOptions options);
  const std::string& Name() const override { return options_.name; }
  const std::string& Provider() const override { return provider_; }
  const Pricing& Prices() const override { return options_.pricing; }
  boost::asio::awaitable<ModelResponse> Complete(ModelRequest request,
                                                 Deadline deadline) override;

 private:
  SimOptions options_;
  std::string provider_ = "sim";
};

}  // namespace triage::providers
