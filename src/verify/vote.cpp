#include "verify/vote.hpp"

#include <algorithm>

namespace triage::verify {

VoteResult MajorityVote(const std::vector<std::string>& responses, const MathOptions& options) {
  VoteResult result;
  MathOptions bare = options;
  bare.extract_answer = false;
  for (std::size_t i = 0; i < responses.size(); ++i) {
    // Read as the verifier reads a response, so a vote and a verdict never disagree.
    std::string answer;
    auto reading = ReadMathAnswer(responses[i], options);
    // A whole response of prose ("I am not sure") is no vote.
    if (reading && !(reading->method == ExtractionMethod::kWhole &&
                     std::count(reading->answer.begin(), reading->answer.end(), ' ') >= 2))
      answer = reading->answer;
    if (answer.empty()) {
      ++result.unreadable;
      continue;
    }
    bool placed = false;
    for (auto& cls : result.classes) {
      if (CompareMathAnswers(cls.representative, answer, bare).Passed()) {
        cls.members.push_back(i);
        placed = true;
        break;
      }
    }
    if (!placed) result.classes.push_back({answer, {i}});
  }
  std::stable_sort(
      result.classes.begin(), result.classes.end(),
      [](const VoteClass& a, const VoteClass& b) { return a.members.size() > b.members.size(); });
  if (!result.classes.empty()) {
    const auto& top = result.classes.front();
    result.has_winner = true;
    result.winner = top.representative;
    result.winner_index = top.members.front();
    result.share = static_cast<double>(top.members.size()) / static_cast<double>(responses.size());
  }
  return result;
}

VoteResult VoteByText(const std::vector<std::string>& answers) {
  VoteResult out;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].empty()) {
      ++out.unreadable;
      continue;
    }
    auto it = std::find_if(out.classes.begin(), out.classes.end(),
                           [&](const VoteClass& c) { return c.representative == answers[i]; });
    if (it == out.classes.end())
      out.classes.push_back({answers[i], {i}});
    else
      it->members.push_back(i);
  }
  std::stable_sort(out.classes.begin(), out.classes.end(), [](const auto& a, const auto& b) {
    return a.members.size() > b.members.size();
  });
  if (!out.classes.empty()) {
    out.has_winner = true;
    out.winner = out.classes.front().representative;
    out.winner_index = out.classes.front().members.front();
    out.share = static_cast<double>(out.classes.front().members.size()) /
                static_cast<double>(answers.size());
  }
  return out;
}

}  // namespace triage::verify
