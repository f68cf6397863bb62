#include "classify/heuristic.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace triage::classify {
namespace {

constexpr std::array<std::string_view, 13> kCompetitionIndicators = {
    "find all", "prove that", "show that", "how many ways", "aime", "olympiad", "competition",
    "for all positive integers", "if and only if", "minimum value of", "maximum value of",
    "sum of all", "product of all"};
constexpr std::array<std::string_view, 3> kFormalTerms = {"prove", "verify correctness",
                                                          "formal proof"};
constexpr std::array<std::string_view, 5> kConditionWords = {"and", "or", "if", "when", "given"};
constexpr std::array<std::string_view, 5> kStepWords = {"step", "first", "then", "finally", "next"};
constexpr std::array<std::string_view, 4> kTrivialPhrases = {"what is", "who is", "when did",
                                                             "list the"};

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Counts whole-word, case-sensitive occurrences of any of `words`, like the seed's
// re.findall(r'\band\b|...', task) on the original (not lower-cased) text.
template <size_t N>
int CountWords(std::string_view text, const std::array<std::string_view, N>& words) {
  int count = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsWordChar(text[i])) { ++i; continue; }
    size_t j = i;
    while (j < text.size() && IsWordChar(text[j])) ++j;
    const auto word = text.substr(i, j - i);
    if (std::find(words.begin(), words.end(), word) != words.end()) ++count;
    i = j;
  }
  return count;
}

template <size_t N>
const std::string_view* FindAny(std::string_view haystack,
                                const std::array<std::string_view, N>& needles) {
  for (const auto& needle : needles)
    if (haystack.find(needle) != std::string_view::npos) return &needle;
  return nullptr;
}

}  // namespace

Classification ClassifyHeuristic(std::string_view task) {
  task = task.substr(0, std::min(task.size(), kHeuristicInputCap));
  std::string lower(task);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  if (const auto* hit = FindAny(lower, kCompetitionIndicators))
    return {core::Tier::kRequiresReasoning, {"competition:" + std::string(*hit)}};
  if (const auto* hit = FindAny(lower, kFormalTerms))
    return {core::Tier::kRequiresReasoning, {"formal:" + std::string(*hit)}};

  const int conditions = CountWords(task, kConditionWords);
  const int steps = CountWords(task, kStepWords);
  const auto counts =
      "conditions=" + std::to_string(conditions) + " steps=" + std::to_string(steps);
  if (conditions >= 4 || steps >= 3) return {core::Tier::kHard, {counts}};
  if (conditions >= 2 || steps >= 2) return {core::Tier::kMedium, {counts}};
  if (const auto* hit = FindAny(lower, kTrivialPhrases))
    return {core::Tier::kTrivial, {"question:" + std::string(*hit)}};
  return {core::Tier::kEasy, {counts}};
}

}  // namespace triage::classify
