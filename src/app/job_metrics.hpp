// What a job tells the metrics (metrics/metrics.hpp) when it finishes and when a user judges
// it: pure mappings from the stored records to the metrics' labelled values.
#pragma once
#include <cstdint>

#include "metrics/metrics.hpp"
#include "store/feedback.hpp"
#include "store/jobs.hpp"

namespace triage::app {

// Its labels, how long it took since it was taken in, its cost, and from the decision trail
// the kinds of reason stages passed it on for (the last stage's "next" ends the plan, it
// escalates nothing) and the rung that answered.
metrics::FinishedJob FinishedJobOf(const store::JobRecord& job, const store::Completion& c,
                                   std::int64_t now_ms);

// A finished job and the user's feedback on it: right when they said so, or when its answer
// equals their gold answer (the verifier's comparison).
metrics::Judged JudgedOf(const store::JobRecord& job, const store::Feedback& feedback);

}  // namespace triage::app
