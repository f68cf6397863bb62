// Labelled data for training and evaluation: JSONL records, the label -> tier table from
// config/classifier.toml, and the fixed held-out split. Pure parsing functions plus file readers
// that return errors as values; thread-compatible.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/tier.hpp"

namespace triage::classify {

// Top-level scalar fields of one JSON object: strings unescaped, numbers/true/false/null as
// written. Nested objects and arrays are validated and skipped. Error message on bad JSON.
using JsonFields = std::map<std::string, std::string, std::less<>>;
std::variant<JsonFields, std::string> ParseJsonObjectFields(std::string_view line);

// JSON string literal (with quotes) for `text`; invalid UTF-8 bytes become U+FFFD.
std::string JsonQuote(std::string_view text);

// One rule of the label table: which records it matches and the tier it gives them.
struct LabelRule {
  std::string source;              // the record's "source" field; a trailing '*' matches a prefix
  std::string group;               // name for per-source figures (default: source)
  std::optional<core::Tier> tier;  // every matching record gets this tier...
  std::string field;               // ...or the tier is chosen by this field's value
  std::map<std::string, core::Tier, std::less<>> tiers;  // value -> tier (when `field` is set)
};

struct ClassifierConfig {
  std::string model_path;         // [classifier] model
  std::vector<LabelRule> labels;  // [[classifier.labels]], first match wins
};

// Parses config/classifier.toml text; error message (with the key to fix) on failure.
std::variant<ClassifierConfig, std::string> ParseClassifierConfig(std::string_view toml_text);
std::variant<ClassifierConfig, std::string> LoadClassifierConfig(const std::filesystem::path& path);

struct LabeledItem {
  std::string id;
  std::string group;  // per-source reporting group (LabelRule::group)
  std::string text;
  core::Tier tier;
};

// Which items a command sees. The split is a pure function of the item id, so it never changes
// when files are reordered, filtered or extended: held out iff SplitBucket(id) < kHeldOutPercent.
enum class Split { kTrain, kHeldOut, kAll };
inline constexpr int kHeldOutPercent = 20;
int SplitBucket(std::string_view id);  // FNV-1a-64 of "triage-split-v1:" + id, mod 100
bool IsHeldOut(std::string_view id);
std::optional<Split> ParseSplit(std::string_view name);  // "train", "heldout", "all"

struct LoadStats {
  size_t read = 0;         // records read
  size_t unmapped = 0;     // records no label rule (or label value) matched: skipped
  size_t other_split = 0;  // records of the other split: skipped
};

// Reads JSONL files; keeps records of `split` that a label rule maps to a tier. A record without
// "source" takes its file's stem; without "id", "<file stem>/<line number>".
std::variant<std::vector<LabeledItem>, std::string> LoadLabeledItems(
    const std::vector<std::filesystem::path>& files, const ClassifierConfig& config, Split split,
    LoadStats* stats = nullptr);

}  // namespace triage::classify
