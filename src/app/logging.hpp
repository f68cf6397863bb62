// The service's logs: one named spdlog logger per part (Logger("router"), "worker", "api",
// "notifier", "reaper", "pipeline", "serve", and "kafka" for librdkafka's own lines), all on the
// default logger's sinks; each line as text (spdlog's pattern) or as one JSON object
// (`log.format`); and every secret the process holds (provider keys, the webhook signing
// secret, passwords in the Postgres DSN and in Kafka properties) replaced by "[redacted]" in
// every line, whoever logged it.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/log.hpp"

namespace triage::app {

enum class LogFormat { kText, kJson };
std::optional<LogFormat> ParseLogFormat(std::string_view name);  // "text" | "json"

// Puts the redacting formatter of `format` on every logger, now and later.
void ConfigureLogging(LogFormat format);

// From now on `secret` never appears in a line; empty ones are ignored. Thread-safe.
void RedactInLogs(std::string secret);

// `text` with every registered secret replaced by "[redacted]".
std::string Redacted(std::string text);

// One JSON line (no newline): time (RFC 3339, UTC, milliseconds), level, logger, the job a
// `job_id=<id>` in the message names (when it does), and the message. Pure.
std::string JsonLogLine(std::chrono::system_clock::time_point time, std::string_view level,
                        std::string_view logger, std::string_view message);

}  // namespace triage::app
