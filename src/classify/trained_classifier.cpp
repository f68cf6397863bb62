#include "classify/trained_classifier.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

namespace triage::classify {
namespace {
constexpr int kK = core::kTierCount;

// Proof requests get requires_reasoning whatever the model says: every training data set is
// answer-checked (none asks for a proof), so the model has never seen one, and the seed sends
// formal proofs to reasoning models. Matched on the normalised (lower-cased) text as whole
// words, unlike the seed's substring rule (which fires on "improve"). "show that" and "proof"
// count only where a sentence starts: in the data they occur only as "results show that ..." or
// "let the dough proof", never as requests.
constexpr std::array<std::string_view, 4> kProofAnywhere = {"prove", "proving", "formal proof",
                                                            "verify correctness"};
constexpr std::array<std::string_view, 3> kProofSentenceStart = {"show that", "give a proof",
                                                                 "write a proof"};

bool IsWordByteAt(std::string_view text, size_t i) {
  if (i >= text.size()) return false;
  const auto c = static_cast<unsigned char>(text[i]);
  return (c >= 'a' && c <= 'z') || c == '0' || c == '_' || c >= 0x80;
}

// At the start of the text, or after ". ", "? ", "! ", ": " (the text is whitespace-collapsed).
bool StartsSentence(std::string_view text, size_t pos) {
  if (pos == 0) return true;
  size_t i = pos;
  if (text[i - 1] == ' ') --i;
  if (i == 0) return true;
  const char c = text[i - 1];
  return c == '.' || c == '?' || c == '!' || c == ':';
}

const std::string_view* FindProofRequest(std::string_view normalized) {
  auto find = [&](const auto& phrases, bool sentence_start) -> const std::string_view* {
    for (const auto& phrase : phrases)
      for (size_t pos = normalized.find(phrase); pos != std::string_view::npos;
           pos = normalized.find(phrase, pos + 1))
        if ((pos == 0 || !IsWordByteAt(normalized, pos - 1)) &&
            !IsWordByteAt(normalized, pos + phrase.size()) &&
            (!sentence_start || StartsSentence(normalized, pos)))
          return &phrase;
    return nullptr;
  };
  if (const auto* hit = find(kProofAnywhere, false)) return hit;
  return find(kProofSentenceStart, true);
}
}  // namespace

TrainedClassifier::TrainedClassifier(ModelParams params) : params_(std::move(params)) {}

ModelLoadResult TrainedClassifier::Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {nullptr, "cannot open classifier model " + path.string()};
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return {nullptr, "cannot read classifier model " + path.string()};
  auto parsed = ParseModel(bytes);
  if (auto* err = std::get_if<std::string>(&parsed))
    return {nullptr, "refusing classifier model " + path.string() + ": " + *err};
  return {std::make_shared<const TrainedClassifier>(std::move(std::get<ModelParams>(parsed))), {}};
}

Classification TrainedClassifier::Classify(std::string_view text, int top_features) const {
  // Per-thread scratch: Classify is const and may run on many threads at once.
  thread_local Features features;
  thread_local FeatureSums sums;
  std::array<float, kK> z;
  if (top_features > 0) {
    ExtractFeatures(text, params_.features, features);
    z = ComputeLogits(params_, features);
  } else {
    SumFeatures(text, params_.features, params_.hashed_weights.data(), sums);
    z = ComputeLogits(params_, sums);
  }

  Classification out;
  const float zmax = *std::max_element(z.begin(), z.end());
  std::array<double, kK> prob{};
  double total = 0;
  for (int c = 0; c < kK; ++c) total += (prob[c] = std::exp(static_cast<double>(z[c] - zmax)));
  for (auto& p : prob) p /= total;
  const int best = static_cast<int>(std::max_element(prob.begin(), prob.end()) - prob.begin());
  out.tier = static_cast<core::Tier>(best);
  out.probabilities = prob;
  char reason[64];
  std::snprintf(reason, sizeof reason, "model:p=%.3f", prob[best]);
  out.reasons.emplace_back(reason);
  // The tokenizer already flagged whether a proof word occurs at all; only then is the exact
  // (whole-phrase, sentence-start) check worth its cost.
  const bool proof_candidate = top_features > 0 ? features.proof_candidate : sums.proof_candidate;
  if (const auto* phrase = proof_candidate ? FindProofRequest(top_features > 0 ? features.normalized
                                                                               : sums.normalized)
                                           : nullptr;
      phrase && out.tier != core::Tier::kRequiresReasoning) {
    out.tier = core::Tier::kRequiresReasoning;
    out.reasons.push_back("rule:proof request \"" + std::string(*phrase) + "\"");
  }
  if (top_features <= 0) return out;

  // A feature's push towards `best`, relative to its mean push over all tiers (softmax only
  // sees differences, so the centred weight is the one that explains the decision).
  auto centred = [&](const float* w, float x) {
    float mean = 0;
    for (int c = 0; c < kK; ++c) mean += w[c];
    return static_cast<double>(x * (w[best] - mean / kK));
  };
  struct Candidate {
    double weight;
    uint32_t bucket;  // hashed: bucket; dense: UINT32_MAX
    int index;        // hashed: first occurrence; dense: feature index
  };
  // Repeated occurrences of one n-gram add up: merge by bucket in a small open-addressing
  // table (generation stamps spare clearing it), then rank.
  thread_local std::vector<Candidate> candidates;
  thread_local std::vector<uint32_t> stamps;
  thread_local std::vector<uint32_t> slots;
  thread_local uint32_t generation = 0;
  candidates.clear();
  const size_t want = std::bit_ceil(2 * features.hashed.size() + 2);
  if (stamps.size() < want) {
    stamps.assign(want, 0);
    slots.assign(want, 0);
    generation = 0;
  }
  if (++generation == 0) {
    std::fill(stamps.begin(), stamps.end(), 0);
    generation = 1;
  }
  const size_t mask = stamps.size() - 1;
  for (size_t i = 0; i < features.hashed.size(); ++i) {
    const auto& h = features.hashed[i];
    const double w = centred(&params_.hashed_weights[size_t{h.bucket} * kK],
                             features.kind_scale[static_cast<int>(h.kind)]);
    size_t slot = (h.bucket * 0x9E3779B1u) & mask;
    while (stamps[slot] == generation && candidates[slots[slot]].bucket != h.bucket)
      slot = (slot + 1) & mask;
    if (stamps[slot] == generation) {
      candidates[slots[slot]].weight += w;
    } else {
      stamps[slot] = generation;
      slots[slot] = static_cast<uint32_t>(candidates.size());
      candidates.push_back({w, h.bucket, static_cast<int>(i)});
    }
  }
  for (int j = 0; j < kDenseCount; ++j) {
    const float x = (features.dense[j] - params_.dense_mean[j]) * params_.dense_inv_std[j];
    candidates.push_back({centred(&params_.dense_weights[j * kK], x), UINT32_MAX, j});
  }
  const size_t k = std::min(candidates.size(), static_cast<size_t>(top_features));
  std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end(),
                    [](const Candidate& a, const Candidate& b) { return a.weight > b.weight; });
  for (size_t i = 0; i < k; ++i) {
    const auto& c = candidates[i];
    std::string name = c.bucket == UINT32_MAX ? "hand:" + std::string(kDenseNames[c.index])
                                              : FeatureName(features, features.hashed[c.index]);
    out.top_features.push_back({std::move(name), c.weight});
  }
  return out;
}

}  // namespace triage::classify
