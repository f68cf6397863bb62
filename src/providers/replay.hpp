// `replay`: answers from recorded outcomes of real models (the shape of shared/data/replay/*:
// items.jsonl {id, text, gold, ...} and outcomes.jsonl {item, model, response | p_correct}).
// A request finds its item by the hint "replay_item" (sim_hints) or else by its exact prompt
// text. A recorded `response` is returned as is; a `p_correct` is sampled deterministically from
// (seed, item, model, attempt), answering the gold or a wrong value. Usage is estimated (4 bytes
// a token, or `output_tokens`); latency is `latency` (no waiting when zero). Loaded once at
// construction with replay::ReadReplaySet (throws std::runtime_error, a replay::ReplayError
// naming file and line, on an unreadable or malformed set); Complete() is thread-safe and
// throws a non-retryable ModelError for an unknown item. The draws are replay::SampleDraw's.
#pragma once
#include <string>
#include <unordered_map>

#include "providers/model_client.hpp"

namespace triage::providers {

struct ReplayOptions {
  std::string name;   // our name for the model
  std::string dir;    // folder with items.jsonl and outcomes.jsonl
  std::string model;  // the `model` field to replay in outcomes.jsonl
  Pricing pricing;
  std::uint64_t seed = 42;
  std::int64_t output_tokens = 0;  // 0: estimate from the recorded text
  std::chrono::milliseconds latency{0};
};

class ReplayModel final : public ModelClient {
 public:
  explicit ReplayModel(ReplayOptions options);
  const std::string& Name() const override { return options_.name; }
  const std::string& Provider() const override { return provider_; }
  const Pricing& Prices() const override { return options_.pricing; }
  boost::asio::awaitable<ModelResponse> Complete(ModelRequest request, Deadline deadline) override;
  std::size_t Items() const { return outcomes_.size(); }

 private:
  struct Outcome {
    std::string gold;
    std::optional<std::string> response;
    double p_correct = 0;
  };
  ReplayOptions options_;
  std::string provider_ = "replay";
  std::unordered_map<std::string, Outcome> outcomes_;     // by item id
  std::unordered_map<std::string, std::string> by_text_;  // item text -> id
};

}  // namespace triage::providers
