// Self-consistency: majority vote over N sampled responses. Answers are extracted, then grouped
// into equivalence classes by the math comparator ("1/2" and "0.5" vote together).
// Thread-safe (the comparator serialises GiNaC); O(N * classes) comparisons, each budgeted.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "verify/math_equivalence.hpp"

namespace triage::verify {

struct VoteClass {
  std::string representative;        // the first answer seen in this class
  std::vector<std::size_t> members;  // indexes into the responses
};

struct VoteResult {
  bool has_winner = false;
  std::string winner;              // the winning class's representative answer
  std::size_t winner_index = 0;    // the first response in the winning class
  double share = 0;                // winner's votes / all responses (unreadable ones count)
  std::vector<VoteClass> classes;  // largest first; ties keep first-seen order
  std::size_t unreadable = 0;      // responses with no extractable answer
};

// `options.extract` decides how answers are found in each response.
VoteResult MajorityVote(const std::vector<std::string>& responses, const MathOptions& options = {});

// The same over answers already read, grouped by exact text; an empty answer is unreadable.
VoteResult VoteByText(const std::vector<std::string>& answers);

}  // namespace triage::verify
