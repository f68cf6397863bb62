// A named logger on the default logger's sinks and formatter, made once and kept in spdlog's
// registry (so the level and formatter set later reach it too). Thread-safe.
#pragma once
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>

namespace triage::core {

inline std::shared_ptr<spdlog::logger> Logger(const std::string& name) {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  if (auto found = spdlog::get(name)) return found;
  auto logger = spdlog::default_logger()->clone(name);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace triage::core
