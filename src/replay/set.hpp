// A replay set: real recorded outcomes of models on items, read from a folder holding
// items.jsonl and outcomes.jsonl (docs/replay.md has the shape). Reading checks every record and
// throws ReplayError naming the file, line and field of the first bad one; nothing is dropped or
// guessed. The result is a plain value; thread-compatible.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace triage::replay {

class ReplayError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Item {
  std::string id;
  std::optional<std::string> text;  // absent (or null) for sets recorded without problem text
  std::string domain;               // "" when not given
  std::optional<std::string> gold;  // the reference answer (a number is kept as written)
  std::optional<std::string> difficulty;
  // Every other top-level scalar field ("source", "platform", ...): strings as they are, numbers
  // and booleans as written in JSON. Nulls, objects and arrays are not kept.
  std::map<std::string, std::string, std::less<>> labels;
};

struct Outcome {
  std::string item;
  std::string model;
  std::optional<std::string> response;  // the recorded text of one sample
  std::optional<double> p_correct;      // in [0, 1]; with a response, that response's grade
  std::optional<double> cost_usd;       // the real cost of the call, where recorded
  std::optional<double> latency_s;
  std::optional<std::int64_t> input_tokens, output_tokens;
  std::optional<std::int64_t> runs;  // how many runs p_correct was measured over
  // What the service recorded of this call (`triage tune` builds such sets from its attempts):
  // the engine's confidence in the answer and the checker's verdict on it (verify::ToString's
  // names). With a verdict, a replay takes it as the check instead of running the verifier.
  std::optional<double> confidence;
  std::optional<std::string> verdict;
  std::size_t line = 0;              // line in outcomes.jsonl, for messages
};

struct ReplaySet {
  std::filesystem::path dir;
  std::vector<Item> items;          // in file order
  std::vector<Outcome> outcomes;    // in file order
  std::vector<std::string> models;  // every outcome's model, in first-seen order

  const Item* FindItem(std::string_view id) const;
  // The outcome of `model` on `item`, or nullptr when none was recorded.
  const Outcome* Find(std::string_view item, std::string_view model) const;

  // Indexes into items / outcomes; kept in step by ReadReplaySet and SelectItems.
  std::unordered_map<std::string, std::size_t> item_index;
  std::unordered_map<std::string, std::size_t> outcome_index;  // key: item '\x1f' model
};

// Reads dir/items.jsonl and dir/outcomes.jsonl. Throws ReplayError on an unreadable file, bad
// JSON, a missing or mistyped field, an outcome with neither `response` nor `p_correct`, a
// p_correct outside [0, 1], an outcome for an unknown item, a repeated item id or a repeated
// (item, model) pair, or a set with no items or no outcomes.
ReplaySet ReadReplaySet(const std::filesystem::path& dir);

// The set restricted to the items `keep` accepts (and their outcomes); models stay in
// first-seen order among what is left.
template <class Keep>
ReplaySet SelectItems(const ReplaySet& set, Keep keep);

// Rebuilds models and the indexes from items and outcomes (after editing them by hand).
void Reindex(ReplaySet& set);

template <class Keep>
ReplaySet SelectItems(const ReplaySet& set, Keep keep) {
  ReplaySet out;
  out.dir = set.dir;
  for (const auto& item : set.items)
    if (keep(item)) out.items.push_back(item);
  std::unordered_map<std::string_view, bool> kept;
  for (const auto& item : out.items) kept[item.id] = true;
  for (const auto& o : set.outcomes)
    if (kept.contains(o.item)) out.outcomes.push_back(o);
  Reindex(out);
  return out;
}

}  // namespace triage::replay
