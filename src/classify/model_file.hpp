// The trained classifier's parameters and their versioned binary file format (docs/classifier.md).
// Serialize is deterministic (same parameters -> same bytes); Parse refuses any corrupt, truncated
// or foreign file with a message saying what is wrong. Pure functions; thread-safe.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "classify/features.hpp"
#include "core/tier.hpp"

namespace triage::classify {

// File layout, all integers and floats little-endian:
//   0  char[8]  magic "TRIAGECM"
//   8  u32      format version (kModelFormatVersion)
//  12  u32      tier count (must be core::kTierCount)
//  16  u32      dense feature count (must be kDenseCount)
//  20  u32      hash_bits          24  u32  char_ngram_min     28  u32  char_ngram_max
//  32  u32      flags (bit 0: word bigrams)
//  36  u32      metadata length M (bytes, at most kMaxMetadataBytes)
//  40  u8[M]    metadata: UTF-8 text, how the model was trained
//  ..  f32[D]   dense_mean        f32[D]  dense_inv_std      f32[K]  bias
//  ..  f32[D*K] dense_weights (row per dense feature)
//  ..  f32[2^hash_bits * K] hashed_weights (row per bucket)
//  end u64      FNV-1a-64 of every preceding byte
inline constexpr char kModelMagic[8] = {'T', 'R', 'I', 'A', 'G', 'E', 'C', 'M'};
inline constexpr uint32_t kModelFormatVersion = 1;
inline constexpr uint32_t kMaxMetadataBytes = 64 * 1024;

struct ModelParams {
  FeatureConfig features;
  std::array<float, kDenseCount> dense_mean{};
  std::array<float, kDenseCount> dense_inv_std{};
  std::array<float, core::kTierCount> bias{};
  std::vector<float> dense_weights;   // kDenseCount * kTierCount
  std::vector<float> hashed_weights;  // (1 << features.hash_bits) * kTierCount
  std::string metadata;
};

std::string SerializeModel(const ModelParams& params);
// The parameters, or an error message (without the file name; callers add it).
std::variant<ModelParams, std::string> ParseModel(std::string_view bytes);

// Logits for a text's features: bias + standardised dense part + scaled hashed part.
std::array<float, core::kTierCount> ComputeLogits(const ModelParams& params,
                                                  const Features& features);
// Same logits from the fast path's per-kind sums.
std::array<float, core::kTierCount> ComputeLogits(const ModelParams& params,
                                                  const FeatureSums& sums);

}  // namespace triage::classify
