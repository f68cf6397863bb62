#include "route/confidence.hpp"

#include <gtest/gtest.h>

namespace triage::route {
namespace {

TEST(SelfReport, ReadsTheLineAndStripsItFromTheAnswer) {
  const auto r = ParseSelfReport("2 + 2 = 4\nThe answer is 4.\nCONFIDENCE: 85");
  EXPECT_EQ(r.text, "2 + 2 = 4\nThe answer is 4.");
  EXPECT_EQ(r.confidence, 0.85);
  EXPECT_TRUE(r.annotated);
}

TEST(SelfReport, ReadsTheUsualSpellings) {
  EXPECT_EQ(ParseSelfReport("x\nConfidence: 85%").confidence, 0.85);
  EXPECT_EQ(ParseSelfReport("x\n**Confidence:** 70").confidence, 0.70);
  EXPECT_EQ(ParseSelfReport("x\n- confidence = 0.9").confidence, 0.9);
  EXPECT_EQ(ParseSelfReport("x\nCONFIDENCE: 100.").confidence, 1.0);
  EXPECT_EQ(ParseSelfReport("x\nCONFIDENCE: 0").confidence, 0.0);
  EXPECT_EQ(ParseSelfReport("x\r\nCONFIDENCE: 60\r\n").confidence, 0.6);
}

TEST(SelfReport, MissingGarbledOrContradictoryGivesNothing) {
  auto r = ParseSelfReport("The answer is 4.");
  EXPECT_FALSE(r.confidence.has_value());
  EXPECT_FALSE(r.annotated);
  EXPECT_EQ(r.text, "The answer is 4.");
  r = ParseSelfReport("The answer is 4.\nCONFIDENCE: high");
  EXPECT_FALSE(r.confidence.has_value());
  EXPECT_TRUE(r.annotated);
  EXPECT_EQ(r.text, "The answer is 4.");  // stripped all the same
  EXPECT_FALSE(ParseSelfReport("x\nCONFIDENCE: 140").confidence.has_value());
  EXPECT_FALSE(ParseSelfReport("x\nCONFIDENCE: -5").confidence.has_value());
  r = ParseSelfReport("CONFIDENCE: 90\nThe answer is 4.\nCONFIDENCE: 40");
  EXPECT_FALSE(r.confidence.has_value());
  EXPECT_EQ(r.text, "The answer is 4.");
  EXPECT_EQ(ParseSelfReport("CONFIDENCE: 90\nanswer\nConfidence: 90%").confidence, 0.9);
}

TEST(SelfReport, LeavesProseThatMerelyMentionsConfidence) {
  const auto r =
      ParseSelfReport("My confidence: high, because 2 + 2 = 4.\nConfidence intervals are wide.");
  EXPECT_FALSE(r.annotated);
  EXPECT_EQ(r.text, "My confidence: high, because 2 + 2 = 4.\nConfidence intervals are wide.");
}

}  // namespace
}  // namespace triage::route
