// The learned router's parameters and their versioned binary file (docs/learned_router.md).
// Serialize is deterministic (same parameters -> same bytes); Parse refuses a corrupt, truncated,
// foreign or other-version file with a message saying what is wrong. Pure; thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "classify/training.hpp"
#include "route/router_features.hpp"

namespace triage::route {

// File layout, all integers and floats little-endian:
//   0  char[8]  magic "TRIAGERM"
//   8  u32      format version (kRouterFormatVersion)
//  12  u32      kind (0 before, 1 after)
//  16  u32      hash_bits   20 u32 char_ngram_min   24 u32 char_ngram_max
//  28  u32      flags (bit 0: word bigrams, bit 1: answer text hashed)
//  32  u32      task dense count (kTaskDenseCount)   36 u32 answer dense count (kAnswerDenseCount)
//  40  u32      vocabulary size V, then V strings (u32 length + bytes)
//  ..  u32      metadata length M, u8[M] metadata (UTF-8: how the model was trained)
//  ..  u32      model count N, then per model: name (u32 length + bytes), u32 training rows,
//               f32 positive share of the training targets, then the LinearModel (2 classes):
//               f32[D] dense_mean, f32[D] dense_inv_std, f32[2] bias, f32[D*2] dense_weights,
//               f32[2^hash_bits * 2] hashed_weights, with D = DenseCount(features)
//  end u64      FNV-1a-64 of every preceding byte
inline constexpr char kRouterMagic[8] = {'T', 'R', 'I', 'A', 'G', 'E', 'R', 'M'};
inline constexpr uint32_t kRouterFormatVersion = 1;
inline constexpr uint32_t kMaxRouterStringBytes = 64 * 1024;
inline constexpr uint32_t kMaxRouterModels = 1024;

struct PerModel {
  std::string name;              // the model id as the outcomes name it
  uint32_t rows = 0;             // training rows it was fitted on
  float positive_share = 0;      // mean training target (the model's training-split accuracy)
  classify::LinearModel linear;  // classes: 0 wrong, 1 correct
};

struct RouterParams {
  RouterFeatureConfig features;
  std::string metadata;
  std::vector<PerModel> models;  // in training order (sorted by name)
};

std::string SerializeRouter(const RouterParams& params);
// The parameters, or an error message (without the file name; callers add it).
std::variant<RouterParams, std::string> ParseRouter(std::string_view bytes);

}  // namespace triage::route
