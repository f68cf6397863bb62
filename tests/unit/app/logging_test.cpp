// The service's log lines: JSON lines with the job a line names, and secrets redacted from every
// line whatever its format.
#include "app/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace triage::app {
namespace {

TEST(JsonLogLine, CarriesTimeLevelLoggerTheJobItNamesAndTheMessage) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796171045123));
  const auto line = nlohmann::json::parse(JsonLogLine(
      time, "warn", "notifier", "job_id=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b webhook failed: 503"));
  EXPECT_EQ(line["time"], "2026-12-02T00:24:05.123Z");
  EXPECT_EQ(line["level"], "warn");
  EXPECT_EQ(line["logger"], "notifier");
  EXPECT_EQ(line["job_id"], "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(line["message"], "job_id=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b webhook failed: 503");
  // No job named: no field. Invalid UTF-8 in a message still makes valid JSON.
  const auto other = nlohmann::json::parse(JsonLogLine(time, "info", "", "bytes \xff\xfe here"));
  EXPECT_FALSE(other.contains("job_id"));
  EXPECT_EQ(other["logger"], "triage");
}

TEST(Redaction, EverySecretGoesFromEveryLineInBothFormats) {
  RedactInLogs("sk-test-planted-0123456789");
  RedactInLogs("whsec_cGxhbnRlZA==");
  RedactInLogs("");  // ignored
  EXPECT_EQ(Redacted("key sk-test-planted-0123456789 and sk-test-planted-0123456789!"),
            "key [redacted] and [redacted]!");
  EXPECT_EQ(Redacted("nothing here"), "nothing here");

  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>(
      "logging_test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  spdlog::register_logger(logger);
  for (const auto format : {LogFormat::kJson, LogFormat::kText}) {
    ConfigureLogging(format);
    logger->warn(
        "job_id=j1 provider said: Incorrect API key sk-test-planted-0123456789; "
        "signing with whsec_cGxhbnRlZA==");
    logger->flush();
  }
  spdlog::drop("logging_test");
  ConfigureLogging(LogFormat::kText);
  const auto text = out.str();
  EXPECT_EQ(text.find("sk-test-planted"), std::string::npos) << text;
  EXPECT_EQ(text.find("whsec_"), std::string::npos) << text;
  std::istringstream lines(text);
  std::string json_line, text_line;
  std::getline(lines, json_line);
  std::getline(lines, text_line);
  const auto j = nlohmann::json::parse(json_line);
  EXPECT_EQ(j["logger"], "logging_test");
  EXPECT_EQ(j["job_id"], "j1");
  EXPECT_EQ(j["message"],
            "job_id=j1 provider said: Incorrect API key [redacted]; signing with [redacted]");
  EXPECT_NE(text_line.find("[logging_test] [warning] job_id=j1 provider said: Incorrect API key "
                           "[redacted]"),
            std::string::npos)
      << text_line;
}

}  // namespace
}  // namespace triage::app
