#include <gtest/gtest.h>

#include "http/http.hpp"

namespace triage::http {

TEST(ParseUrl, SplitsSchemeHostPortAndTarget) {
  auto u = ParseUrl("https://example.test/hooks/a?x=1");
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "example.test");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/hooks/a?x=1");
  u = ParseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/");
  u = ParseUrl("http://[::1]:9000/p");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9000");
}

TEST(ParseUrl, RejectsWhatItCannotConnectTo) {
  EXPECT_FALSE(ParseUrl("ftp://x/").has_value());
  EXPECT_FALSE(ParseUrl("http://").has_value());
  EXPECT_FALSE(ParseUrl("http://user:pw@host/").has_value());
  EXPECT_FALSE(ParseUrl("http://host:99999999/").has_value());
  EXPECT_FALSE(ParseUrl("http://host:8a/").has_value());
  EXPECT_FALSE(ParseUrl("http://[::1/").has_value());
  EXPECT_FALSE(ParseUrl("http://host:0/").has_value());
  EXPECT_FALSE(ParseUrl("http://host:65536/").has_value());
  EXPECT_FALSE(ParseUrl("http://host/a b").has_value());
  EXPECT_FALSE(ParseUrl("http://host/#top").has_value());
  std::string why;
  EXPECT_FALSE(ParseUrl("https://u:p@host/", &why).has_value());
  EXPECT_NE(why.find("credentials"), std::string::npos) << why;
}

}  // namespace triage::http
