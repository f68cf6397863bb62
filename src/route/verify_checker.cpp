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
  std::vector<std::string> answers;
  for (const auto& r : responses) answers.push_back(Trimmed(r));
  return verify::VoteByText(answers);
}

}  // namespace triage::route
