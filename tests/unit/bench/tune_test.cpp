// `triage tune`'s rules: the target grammar, the window, the fewest outcomes a target needs.
#include "bench/tune.hpp"

#include <gtest/gtest.h>

namespace triage::bench {
namespace {

Target Parsed(std::string_view text) {
  const auto t = ParseTarget(text);
  if (const auto* e = std::get_if<std::string>(&t)) ADD_FAILURE() << text << ": " << *e;
  return std::get_if<Target>(&t) ? std::get<Target>(t) : Target{};
}

std::string Refusal(std::string_view text) {
  const auto t = ParseTarget(text);
  return std::get_if<std::string>(&t) ? std::get<std::string>(t) : "(accepted)";
}

TEST(TuneTarget, ReadsRelativeAndAbsoluteTargets) {
  EXPECT_EQ(Parsed("accuracy>=0.97*strong").value, 0.97);
  EXPECT_TRUE(Parsed("accuracy>=0.97*strong").relative);
  EXPECT_TRUE(Parsed(" accuracy >= 0.97 * strong ").relative);
  EXPECT_FALSE(Parsed("accuracy>=0.9").relative);
  EXPECT_EQ(Parsed("accuracy>=1").value, 1.0);
  EXPECT_EQ(Parsed("accuracy>=1*strong").value, 1.0);
}

TEST(TuneTarget, RefusesAnythingElseNamingWhere) {
  EXPECT_EQ(Refusal(""), "expected 'accuracy' at column 1 of ''");
  EXPECT_EQ(Refusal("cost<=0.5"), "expected 'accuracy' at column 1 of 'cost<=0.5'");
  EXPECT_EQ(Refusal("accuracy>0.9"), "expected '>=' at column 9 of 'accuracy>0.9'");
  EXPECT_EQ(Refusal("accuracy>=strong"),
            "expected a number such as 0.97 at column 11 of 'accuracy>=strong'");
  EXPECT_EQ(Refusal("accuracy>=0.*strong"),
            "expected digits after '.' at column 13 of "
            "'accuracy>=0.*strong'");
  EXPECT_EQ(Refusal("accuracy>=0.97%"), "unexpected '%' at column 15 of 'accuracy>=0.97%'");
  EXPECT_EQ(Refusal("accuracy>=97"), "the number must be within (0, 1], got 97");
  EXPECT_EQ(Refusal("accuracy>=0"), "the number must be within (0, 1], got 0");
  EXPECT_EQ(Refusal("accuracy>=0.97*weak"),
            "expected 'strong' after '*' at column 16 of 'accuracy>=0.97*weak'");
  EXPECT_EQ(Refusal("accuracy>=0.97*strong and cost"),
            "unexpected 'and cost' at column 23 of 'accuracy>=0.97*strong and cost'");
  EXPECT_EQ(Refusal("accuracy>=-0.9"),
            "expected a number such as 0.97 at column 11 of 'accuracy>=-0.9'");
}

TEST(TuneWindow, ReadsDaysHoursMinutesSecondsAndNothingElse) {
  EXPECT_EQ(std::get<std::int64_t>(ParseWindow("7d")), 7 * 86400);
  EXPECT_EQ(std::get<std::int64_t>(ParseWindow("12h")), 12 * 3600);
  EXPECT_EQ(std::get<std::int64_t>(ParseWindow("30m")), 1800);
  EXPECT_EQ(std::get<std::int64_t>(ParseWindow("90s")), 90);
  for (const auto* bad : {"7", "d", "7w", "-7d", "7 d", "1.5d", "", "123456789d", "0d"})
    EXPECT_TRUE(std::holds_alternative<std::string>(ParseWindow(bad))) << bad;
}

TEST(TuneMinimum, IsTheOutcomesWhoseIntervalFitsTheSlack) {
  // 1.96^2 x 0.9 x 0.1 / 0.1^2 = 34.57: an absolute 0.9 (error budget 0.1) needs 35.
  EXPECT_EQ(MinimumOutcomes(0.9, 0.1), 35);
  // 0.97 x a strong model at 0.95: target 0.9215, slack 0.0285 -> 342.13 -> 343.
  EXPECT_EQ(MinimumOutcomes(0.97 * 0.95, 0.03 * 0.95), 343);
  // Halving the slack quadruples the need.
  EXPECT_EQ(MinimumOutcomes(0.8, 0.05), 246);
  EXPECT_EQ(MinimumOutcomes(0.8, 0.025), 984);
}

TEST(TuneMinimum, NoNumberOfOutcomesShowsATargetWithoutSlack) {
  EXPECT_FALSE(MinimumOutcomes(0.95, 0.0));  // accuracy>=1*strong
  EXPECT_FALSE(MinimumOutcomes(1.0, 0.0));   // accuracy>=1
  EXPECT_FALSE(MinimumOutcomes(0.9, -0.1));
}

TEST(TuneInterval, WilsonIntervalHoldsThePointAndStaysInZeroOne) {
  const auto all = WilsonInterval(10, 10);
  EXPECT_NEAR(all.low, 0.7225, 1e-4);
  EXPECT_EQ(all.high, 1.0);
  const auto half = WilsonInterval(50, 100);
  EXPECT_NEAR(half.low, 0.4038, 1e-4);
  EXPECT_NEAR(half.high, 0.5962, 1e-4);
}

}  // namespace
}  // namespace triage::bench
