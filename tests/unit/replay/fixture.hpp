// A replay set written by a test into a fresh temp folder (removed at the end of the test), and
// the shared data folder (never copied into the project).
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace triage::replay::testing {

class TempSet {
 public:
  TempSet(const std::string& items, const std::string& outcomes) {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("triage-replay-" + std::to_string(::getpid()) + "-" + info->name() + "-" +
            std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "items.jsonl") << items;
    std::ofstream(dir_ / "outcomes.jsonl") << outcomes;
  }
  ~TempSet() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::filesystem::path& Dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

inline std::filesystem::path DataDir() {
  if (const char* env = std::getenv("TRIAGE_DATA_DIR"); env && *env) return env;
  return std::filesystem::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data";
}

}  // namespace triage::replay::testing
