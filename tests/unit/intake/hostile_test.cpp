// The hostile corpus (tests/hostile/) through the submission parser, as the API and the router
// see it: every case gets exactly the error it should, naming the field, and the valid ones are
// taken whole.
#include <gtest/gtest.h>

#include "corpus.hpp"
#include "intake/submission.hpp"

namespace triage::intake {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

void Expect(const hostile::Case& c, Source source) {
  const Limits limits;
  const auto parsed = ParseSubmission(c.body, limits, kNow, source);
  if (c.code.empty()) {
    const auto* error = std::get_if<Error>(&parsed);
    EXPECT_EQ(error, nullptr) << c.name << ": "
                              << (error ? error->code + " " + error->message : "");
    return;
  }
  const auto* error = std::get_if<Error>(&parsed);
  ASSERT_NE(error, nullptr) << c.name << ": accepted";
  EXPECT_EQ(error->code, c.code) << c.name << ": " << error->message;
  if (!c.field.empty()) EXPECT_EQ(error->field, c.field) << c.name << ": " << error->message;
  EXPECT_FALSE(error->message.empty()) << c.name;
}

TEST(HostileCorpus, EverySubmissionCaseGetsItsErrorOverHttpAndKafka) {
  const auto cases = hostile::SubmissionCases(Limits{}.max_task_bytes);
  ASSERT_GT(cases.size(), 100u);
  for (const auto& c : cases) {
    Expect(c, Source::kHttp);
    Expect(c, Source::kEnvelope);
  }
}

TEST(HostileCorpus, EnvelopeOnlyFieldsAreCheckedToo) {
  for (const auto& c : hostile::EnvelopeCases()) Expect(c, Source::kEnvelope);
}

}  // namespace
}  // namespace triage::intake
