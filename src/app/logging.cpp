#include "app/logging.hpp"

#include <fmt/chrono.h>
#include <spdlog/pattern_formatter.h>

#include <algorithm>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

namespace triage::app {
namespace {

std::mutex secrets_mutex;
std::vector<std::string> secrets;  // longest first, so a secret inside another goes with it

// The id after "job_id=" (up to a space or a separator), if the message names one.
std::string_view JobIdIn(std::string_view message) {
  const auto at = message.find("job_id=");
  if (at == std::string_view::npos) return {};
  const auto start = at + 7;
  auto end = message.find_first_of(" ,;:)", start);
  if (end == std::string_view::npos) end = message.size();
  return message.substr(start, end - start);
}

class RedactingFormatter final : public spdlog::formatter {
 public:
  explicit RedactingFormatter(LogFormat format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto message = Redacted(std::string(msg.payload.data(), msg.payload.size()));
    if (format_ == LogFormat::kJson) {
      const auto level = spdlog::level::to_string_view(msg.level);
      const auto line =
          JsonLogLine(msg.time, std::string_view(level.data(), level.size()),
                      std::string_view(msg.logger_name.data(), msg.logger_name.size()), message);
      dest.append(line.data(), line.data() + line.size());
      dest.push_back('\n');
      return;
    }
    auto copy = msg;
    copy.payload = spdlog::string_view_t(message.data(), message.size());
    text_.format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RedactingFormatter>(format_);
  }

 private:
  LogFormat format_;
  spdlog::pattern_formatter text_;
};

}  // namespace

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

void ConfigureLogging(LogFormat format) {
  spdlog::set_formatter(std::make_unique<RedactingFormatter>(format));
}

void RedactInLogs(std::string secret) {
  if (secret.empty()) return;
  const std::lock_guard lock(secrets_mutex);
  for (const auto& s : secrets)
    if (s == secret) return;
  secrets.push_back(std::move(secret));
  std::stable_sort(secrets.begin(), secrets.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string Redacted(std::string text) {
  const std::lock_guard lock(secrets_mutex);
  for (const auto& s : secrets)
    for (auto at = text.find(s); at != std::string::npos; at = text.find(s, at + 10))
      text.replace(at, s.size(), "[redacted]");
  return text;
}

std::string JsonLogLine(std::chrono::system_clock::time_point time, std::string_view level,
                        std::string_view logger, std::string_view message) {
  nlohmann::ordered_json line;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  line["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                             fmt::gmtime(static_cast<std::time_t>(ms.count() / 1000)),
                             static_cast<int>(ms.count() % 1000));
  line["level"] = level;
  line["logger"] = logger.empty() ? "triage" : logger;
  if (const auto job = JobIdIn(message); !job.empty()) line["job_id"] = job;
  line["message"] = message;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace triage::app
