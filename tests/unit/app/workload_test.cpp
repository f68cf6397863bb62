#include "app/workload.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace triage::app {

TEST(Workload, IsDeterministicForASeed) {
  const auto a = GenerateWorkload(200, 7), b = GenerateWorkload(200, 7), c = GenerateWorkload(200, 8);
  ASSERT_EQ(a.size(), 200u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    EXPECT_EQ(a[i].answer, b[i].answer);
  }
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i].text == c[i].text;
  EXPECT_LT(same, 20);
}

TEST(Workload, FollowsTheSeedsMixOfDifficulties) {
  std::map<std::string, int> counts;
  for (const auto& p : GenerateWorkload(10000, 1)) ++counts[p.difficulty];
  EXPECT_NEAR(counts["easy"], 5000, 250);
  EXPECT_NEAR(counts["medium"], 3000, 250);
  EXPECT_NEAR(counts["hard"], 2000, 250);
}

// Recomputes answers from the problem text for templates whose arithmetic reads off directly.
TEST(Workload, AnswersAreRight) {
  const std::regex rate(R"(at (\d+) km per hour for (\d+) hours)");
  const std::regex divisors(R"(positive divisors of (\d+)\.)");
  int checked = 0;
  for (const auto& p : GenerateWorkload(2000, 3)) {
    std::smatch m;
    if (std::regex_search(p.text, m, rate)) {
      EXPECT_EQ(p.answer, std::to_string(std::stoll(m[1]) * std::stoll(m[2])));
      ++checked;
    } else if (std::regex_search(p.text, m, divisors)) {
      const long long n = std::stoll(m[1]);
      long long sum = 0;
      for (long long d = 1; d * d <= n; ++d)
        if (n % d == 0) sum += d + (d * d == n ? 0 : n / d);
      EXPECT_EQ(p.answer, std::to_string(sum)) << p.text;
      ++checked;
    }
    EXPECT_FALSE(p.answer.empty());
  }
  EXPECT_GT(checked, 100);
}

}  // namespace triage::app
