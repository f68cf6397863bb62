// Classification figures over tiers: confusion matrix, accuracy, per-tier and macro F1. Pure.
#pragma once
#include <array>
#include <cstddef>
#include <optional>

#include "core/tier.hpp"

namespace triage::classify {

struct ConfusionMatrix {
  std::array<std::array<size_t, core::kTierCount>, core::kTierCount> counts{};  // [gold][pred]

  void Add(core::Tier gold, core::Tier predicted);
  size_t Total() const;
  double Accuracy() const;  // 0 when empty
  // F1 of one tier; nullopt when the tier is neither a gold label nor a prediction.
  std::optional<double> F1(core::Tier tier) const;
  // Mean F1 over the tiers that occur as gold labels or predictions: scikit-learn's
  // f1_score(average="macro") default. Predicting a tier that never occurs counts as a 0.
  double MacroF1() const;
  // Mean F1 over the tiers that occur as gold labels only (scikit-learn with labels=gold tiers).
  double MacroF1GoldTiers() const;
};

}  // namespace triage::classify
