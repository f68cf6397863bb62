#include "notify/webhook.hpp"

#include <gtest/gtest.h>

namespace triage::notify {

// The signing example of the Standard Webhooks specification and its reference libraries.
TEST(Sign, MatchesTheStandardWebhooksReferenceVector) {
  const auto key = DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(Sign(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Sign, ChangesWithEveryPart) {
  const std::string key = "secret-key";
  const auto base = Sign(key, "msg_1", 100, "{}");
  EXPECT_NE(base, Sign(key, "msg_2", 100, "{}"));
  EXPECT_NE(base, Sign(key, "msg_1", 101, "{}"));
  EXPECT_NE(base, Sign(key, "msg_1", 100, "{ }"));
  EXPECT_NE(base, Sign("other-key", "msg_1", 100, "{}"));
}

TEST(DecodeSecret, RejectsWhatIsNotAWhsecSecret) {
  EXPECT_FALSE(DecodeSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").has_value());
  EXPECT_FALSE(DecodeSecret("whsec_").has_value());
  EXPECT_FALSE(DecodeSecret("whsec_not base64!").has_value());
}

TEST(Base64, RoundTripsEveryPaddingLength) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto decoded = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, s);
  }
}

TEST(NextRetry, DoublesUpToTheCapThenGivesUp) {
  RetryPolicy p;
  p.max_attempts = 5;
  p.first_delay = std::chrono::milliseconds(1000);
  p.max_delay = std::chrono::milliseconds(5000);
  EXPECT_EQ(NextRetry(p, 1, 0.0), std::chrono::milliseconds(1000));
  EXPECT_EQ(NextRetry(p, 2, 0.0), std::chrono::milliseconds(2000));
  EXPECT_EQ(NextRetry(p, 3, 0.0), std::chrono::milliseconds(4000));
  EXPECT_EQ(NextRetry(p, 4, 0.0), std::chrono::milliseconds(5000));
  EXPECT_EQ(NextRetry(p, 5, 0.0), std::nullopt);
  EXPECT_EQ(NextRetry(p, 1, 0.5), std::chrono::milliseconds(1100));  // 20% jitter at most
}

}  // namespace triage::notify
