#include "replay/grade.hpp"

#include <string>

#include "core/draw.hpp"
#include "verify/verifier.hpp"

namespace triage::replay {

double SampleDraw(std::uint64_t seed, std::string_view item, std::string_view model, int sample) {
  std::string key = std::to_string(seed);
  key += '\x1f';
  key += item;
  key += '\x1f';
  key += model;
  key += '\x1f';
  key += std::to_string(sample);
  return core::UniformDraw(key);
}

verify::Verdict GradeResponse(const Item& item, std::string_view response) {
  if (!item.gold)
    throw ReplayError("replay: item `" + item.id +
                      "` has a recorded response to grade but no `gold` to grade it against");
  verify::VerifyRequest request;
  request.domain = item.domain;
  request.response = std::string(response);
  request.gold = item.gold;
  return verify::Verify(request);
}

double ExpectedCorrect(const Item& item, const Outcome& outcome) {
  if (outcome.p_correct) return *outcome.p_correct;
  return GradeResponse(item, outcome.response.value_or("")).Passed() ? 1.0 : 0.0;
}

std::vector<double> ExpectedCorrect(const ReplaySet& set) {
  std::vector<double> out;
  out.reserve(set.outcomes.size());
  for (const auto& o : set.outcomes) {
    const Item* item = set.FindItem(o.item);
    if (!item) throw ReplayError("replay: outcome for unknown item `" + o.item + "`");
    if (!o.p_correct && !item->gold)
      throw ReplayError("replay: outcomes.jsonl:" + std::to_string(o.line) +
                        ": a response without `p_correct`, and item `" + o.item +
                        "` has no `gold` to grade it against");
    out.push_back(ExpectedCorrect(*item, o));
  }
  return out;
}

bool SampleCorrect(const Outcome& outcome, double expected, std::uint64_t seed, int sample) {
  if (expected >= 1) return true;
  if (expected <= 0) return false;
  const int index = outcome.response ? 0 : sample;
  return SampleDraw(seed, outcome.item, outcome.model, index) < expected;
}

}  // namespace triage::replay
