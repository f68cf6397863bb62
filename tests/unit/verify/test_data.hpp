// Locates the shared data sets (never copied into the project): $TRIAGE_DATA_DIR, else the
// project root's sibling ../shared/data.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace triage::verify::testing {

inline std::filesystem::path DataDir() {
  if (const char* env = std::getenv("TRIAGE_DATA_DIR"); env && *env) return env;
  return std::filesystem::path(TRIAGE_SOURCE_DIR) / ".." / "shared" / "data";
}

inline std::vector<nlohmann::json> ReadJsonl(const std::filesystem::path& relative) {
  auto path = DataDir() / relative;
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("shared data file missing: " + path.string() +
                             " (set TRIAGE_DATA_DIR to the shared data directory)");
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

}  // namespace triage::verify::testing
