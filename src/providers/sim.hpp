// `sim`: a simulated model that answers like one — worked steps, a self-reported confidence and
// a final answer — with correctness, tokens and latency following a configured profile by
// difficulty (defaults: the seed document's table). Every parameter is described in
// docs/providers.md ("The simulated model").
//
// Deterministic: the same seed, job, model and sample index (ModelRequest::sample) always give
// the same text, usage and latency; other sample indices are fresh draws, related only through
// the job-level effects the profile configures (same_job_correlation, error_correlation).
// Latency is real waiting (an asio timer), multiplied by `time_scale`; responses are marked
// simulated.
//
// What it reads from ModelRequest::sim_hints (a real model never sees them): "difficulty",
// "expected_answer" — used only to decide what a right answer is and to build plausible wrong
// ones — and optionally "steps", a JSON array of a worked solution's lines (app/workload.hpp).
#pragma once
#include <array>
#include <string>
#include <string_view>

#include "core/draw.hpp"
#include "providers/model_client.hpp"

namespace triage::providers {

enum class SimDifficulty { kEasy = 0, kMedium, kHard };
// easy | medium | hard; anything else is nothing.
std::optional<SimDifficulty> ParseSimDifficulty(std::string_view name);
SimDifficulty SimDifficultyForTier(core::Tier tier);

struct SimProfile {
  std::array<double, 3> accuracy{};      // P(correct) on easy, medium, hard
  std::array<std::int64_t, 3> tokens{};  // mean billed output tokens
  double reasoning_share = 0;            // part of the tokens that is hidden reasoning
  double latency_min_s = 0, latency_max_s = 0;
  // How right and wrong samples relate (all in [0, 1]). Correctness is a hidden score per
  // sample; these are the correlations of that score between two samples of the same job:
  double same_job_correlation = 0.5;      // two samples of this model (some jobs are just hard)
  double cross_model_correlation = 0.25;  // this model's part shared with other models (<= above)
  double error_correlation = 0.5;  // P(a wrong sample gives the job's one shared wrong answer)
  double slip_share = 0.2;         // P(a wrong answer shows as an arithmetic slip in a step)
  double slip_when_right = 0.02;   // P(a right answer has a slip in an intermediate step)
  // Self-reported confidence: mean when right / wrong, plus normal noise of this spread.
  double confidence_right = 0.85, confidence_wrong = 0.75, confidence_spread = 0.10;
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
// Throws ModelError (kRequest, not retryable) for hints it cannot read: an unknown difficulty,
// steps that are not a JSON array of strings.
struct SimOutcome {
  bool correct = false;
  bool shared_wrong = false;  // wrong, with the job's shared ("attractor") wrong answer
  bool slipped = false;       // a worked step states a wrong result
  std::string answer;
  std::string text;  // the whole response: steps, "CONFIDENCE: NN", "The answer is X."
  core::Usage usage;
  std::chrono::milliseconds latency{0};  // already scaled
  double confidence = 0;                 // what the text reports, in [0, 1]
};
SimOutcome Simulate(const SimOptions& options, const ModelRequest& request);

// The simulated and replayed models' draws (SHA-256 of a key).
using core::UniformDraw;

class SimModel final : public ModelClient {
 public:
  explicit SimModel(SimOptions options);
  const std::string& Name() const override { return options_.name; }
  const std::string& Provider() const override { return provider_; }
  const Pricing& Prices() const override { return options_.pricing; }
  boost::asio::awaitable<ModelResponse> Complete(ModelRequest request, Deadline deadline) override;

 private:
  SimOptions options_;
  std::string provider_ = "sim";
};

}  // namespace triage::providers
