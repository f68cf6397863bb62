// Whether a model's sample on an item is correct, from what the replay set recorded:
// - `response` only: the project's verifier (verify::Verify, as the service's checker calls it)
//   against the item's gold decides, so its expected correctness is 1 or 0. A recorded response
//   is ONE sample: sample k > 0 of such an outcome is the same response, with the same grade.
// - `p_correct` only: each sample is an independent Bernoulli draw with that probability, fixed
//   by (seed, item, model, sample index) through a hash, never a std:: distribution (whose
//   results differ between standard libraries).
// - both: `p_correct` is the recorded grade of that response (the verifier is not asked); as the
//   response is one sample, every sample index shares sample 0's draw.
// Pure and thread-safe.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "replay/set.hpp"
#include "verify/verdict.hpp"

namespace triage::replay {

// A uniform number in [0, 1) fixed by (seed, item, model, sample). The key is the replay
// provider's, so that a replayed model and the benchmark draw alike.
double SampleDraw(std::uint64_t seed, std::string_view item, std::string_view model, int sample);

// The verifier's verdict on `response` against the item's gold (by the item's domain). Throws
// ReplayError when the item has no gold: nothing could decide the response.
verify::Verdict GradeResponse(const Item& item, std::string_view response);

// The probability that one sample of this outcome is correct: p_correct when recorded, else 1
// or 0 by GradeResponse (which runs the verifier: cache the result, e.g. with ExpectedCorrect
// over the whole set).
double ExpectedCorrect(const Item& item, const Outcome& outcome);

// ExpectedCorrect of every outcome of `set`, by index into set.outcomes. Throws ReplayError
// (naming outcomes.jsonl and the line) for a response-only outcome whose item has no gold.
std::vector<double> ExpectedCorrect(const ReplaySet& set);

// Is sample `sample` (0, 1, ...) of `outcome` correct, given its expected correctness (from
// ExpectedCorrect)? 1 and 0 need no draw; otherwise SampleDraw(...) < expected, with the sample
// index taken as 0 when the outcome is a recorded response.
bool SampleCorrect(const Outcome& outcome, double expected, std::uint64_t seed, int sample);

}  // namespace triage::replay
