#include "route/verify_checker.hpp"

namespace triage::route {
namespace {

std::string Trimmed(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace

Checker::Checked VerifyChecker::Check(const std::string& response) const {
  auto request = reference_;
  request.response = response;
  Checked out;
  out.verdict = verify::Verify(request);
  if (Math()) {
    if (const auto reading = verify::ReadMathAnswer(response, reference_.math))
      out.answer = reading->answer;
  } else {
    out.answer = Trimmed(response);
  }
  return out;
}

verify::VoteResult VerifyChecker::Vote(const std::vector<std::string>& responses) const {
  if (Math()) return verify::MajorityVote(responses, reference_.math);
  verify::VoteResult out;
  for (std::size_t i = 0; i < responses.size(); ++i) {
    const auto answer = Trimmed(responses[i]);
    if (answer.empty()) {
      ++out.unreadable;
      continue;
    }
    auto it = std::find_if(out.classes.begin(), out.classes.end(),
                           [&](const verify::VoteClass& c) { return c.representative == answer; });
    if (it == out.classes.end())
      out.classes.push_back({answer, {i}});
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
                static_cast<double>(responses.size());
  }
  return out;
}

}  // namespace triage::route
