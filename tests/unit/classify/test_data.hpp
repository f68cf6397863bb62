// Where the classify tests find the shared data sets and the shipped model.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace triage::classify::testing {

// $TRIAGE_DATA_DIR, else ../shared/data next to the project.
inline std::filesystem::path DataDir() {
  if (const char* dir = std::getenv("TRIAGE_DATA_DIR")) return dir;
  return std::filesystem::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data";
}

inline std::filesystem::path SourceDir() { return TRIAGE_SOURCE_DIR; }

// The labelled files issue 4 trains and reports on.
inline std::vector<std::filesystem::path> ClassifierDataFiles() {
  const auto dir = DataDir();
  return {dir / "classify" / "math_train.jsonl", dir / "classify" / "gsm8k_train.jsonl",
          dir / "classify" / "competition.jsonl", dir / "code" / "humaneval.jsonl",
          dir / "code" / "mbpp.jsonl"};
}

// Fails the calling test with a clear message when a data file is missing.
#define TRIAGE_REQUIRE_DATA(files)          \
  for (const auto& f : (files))             \
    ASSERT_TRUE(std::filesystem::exists(f)) \
        << "missing data file " << f        \
        << " (set TRIAGE_DATA_DIR to the shared data directory, e.g. ../shared/data)";

}  // namespace triage::classify::testing
