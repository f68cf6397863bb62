#include "replay/set.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "verify/verdict.hpp"

namespace triage::replay {
namespace {
using nlohmann::json;

std::string PairKey(std::string_view item, std::string_view model) {
  std::string key(item);
  key += '\x1f';
  key += model;
  return key;
}

// One record being read: its place for messages and typed access to its fields.
class Record {
 public:
  Record(const std::string& where, json doc) : where_(where), doc_(std::move(doc)) {}

  [[noreturn]] void Fail(const std::string& what) const {
    throw ReplayError("replay: " + where_ + ": " + what);
  }
  bool Has(const char* field) const {
    const auto it = doc_.find(field);
    return it != doc_.end() && !it->is_null();
  }
  std::string RequiredString(const char* field) const {
    if (!Has(field)) Fail(std::string("missing field `") + field + "`");
    auto s = OptionalString(field);
    if (s->empty()) Fail(std::string("field `") + field + "` is empty");
    return *s;
  }
  std::optional<std::string> OptionalString(const char* field) const {
    if (!Has(field)) return std::nullopt;
    const auto& v = doc_.at(field);
    if (!v.is_string()) Fail(std::string("field `") + field + "` must be a string");
    return v.get<std::string>();
  }
  // A string, or a number kept as written ("gold": 18, "difficulty": 3).
  std::optional<std::string> StringOrNumber(const char* field) const {
    if (!Has(field)) return std::nullopt;
    const auto& v = doc_.at(field);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    Fail(std::string("field `") + field + "` must be a string or a number");
  }
  std::optional<double> Number(const char* field, double min, double max) const {
    if (!Has(field)) return std::nullopt;
    const auto& v = doc_.at(field);
    if (!v.is_number()) Fail(std::string("field `") + field + "` must be a number");
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < min || x > max)
      Fail(std::string("field `") + field + "` is " + v.dump() + ", outside [" + Text(min) + ", " +
           (std::isinf(max) ? std::string("inf") : Text(max)) + "]");
    return x;
  }
  std::optional<std::int64_t> Count(const char* field, std::int64_t min) const {
    if (!Has(field)) return std::nullopt;
    const auto& v = doc_.at(field);
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX))
      Fail(std::string("field `") + field + "` must be an integer");
    const auto n = v.get<std::int64_t>();
    if (n < min) Fail(std::string("field `") + field + "` is " + v.dump() + ", below " + Text(min));
    return n;
  }
  const json& Doc() const { return doc_; }

 private:
  static std::string Text(double x) {
    json j = x;
    return j.dump();
  }
  static std::string Text(std::int64_t x) { return std::to_string(x); }
  std::string where_;
  json doc_;
};

// Calls f(record, line number) for each non-blank line of `path`, a JSON object each.
template <class F>
void ForEachRecord(const std::filesystem::path& path, F f) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReplayError("replay: cannot read " + path.string());
  const std::string name = path.filename().string();
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(n);
    json doc;
    try {
      doc = json::parse(line);
    } catch (const json::parse_error& e) {
      throw ReplayError("replay: " + where + ": bad JSON (" + e.what() + ")");
    }
    if (!doc.is_object()) throw ReplayError("replay: " + where + ": not a JSON object");
    f(Record(where, std::move(doc)), n);
  }
  if (in.bad()) throw ReplayError("replay: error reading " + path.string());
}

constexpr const char* kItemFields[] = {"id", "text", "domain", "gold", "difficulty"};

Item ReadItem(const Record& r) {
  Item item;
  item.id = r.RequiredString("id");
  item.text = r.OptionalString("text");
  item.domain = r.OptionalString("domain").value_or("");
  item.gold = r.StringOrNumber("gold");
  item.difficulty = r.StringOrNumber("difficulty");
  for (const auto& [key, value] : r.Doc().items()) {
    if (std::find(std::begin(kItemFields), std::end(kItemFields), key) != std::end(kItemFields))
      continue;
    if (value.is_string())
      item.labels[key] = value.get<std::string>();
    else if (value.is_number() || value.is_boolean())
      item.labels[key] = value.dump();
  }
  return item;
}

Outcome ReadOutcome(const Record& r, std::size_t line) {
  constexpr double kInf = INFINITY;
  Outcome o;
  o.item = r.RequiredString("item");
  o.model = r.RequiredString("model");
  o.response = r.OptionalString("response");
  o.p_correct = r.Number("p_correct", 0, 1);
  if (!o.response && !o.p_correct) r.Fail("needs `response` or `p_correct` (neither is given)");
  o.cost_usd = r.Number("cost_usd", 0, kInf);
  o.latency_s = r.Number("latency_s", 0, kInf);
  o.input_tokens = r.Count("input_tokens", 0);
  o.output_tokens = r.Count("output_tokens", 0);
  o.runs = r.Count("runs", 1);
  o.confidence = r.Number("confidence", 0, 1);
  o.verdict = r.OptionalString("verdict");
  if (o.verdict && !verify::ParseOutcome(*o.verdict))
    r.Fail("field `verdict` must be passed, failed, unparseable, timed_out, crashed or no_claims");
  o.line = line;
  return o;
}

}  // namespace

const Item* ReplaySet::FindItem(std::string_view id) const {
  const auto it = item_index.find(std::string(id));
  return it == item_index.end() ? nullptr : &items[it->second];
}

const Outcome* ReplaySet::Find(std::string_view item, std::string_view model) const {
  const auto it = outcome_index.find(PairKey(item, model));
  return it == outcome_index.end() ? nullptr : &outcomes[it->second];
}

void Reindex(ReplaySet& set) {
  set.item_index.clear();
  set.outcome_index.clear();
  set.models.clear();
  for (std::size_t i = 0; i < set.items.size(); ++i) set.item_index.emplace(set.items[i].id, i);
  std::unordered_map<std::string_view, bool> seen;
  for (std::size_t i = 0; i < set.outcomes.size(); ++i) {
    const auto& o = set.outcomes[i];
    set.outcome_index.emplace(PairKey(o.item, o.model), i);
    if (!seen.contains(o.model)) {
      seen[o.model] = true;
      set.models.push_back(o.model);
    }
  }
}

ReplaySet ReadReplaySet(const std::filesystem::path& dir) {
  ReplaySet set;
  set.dir = dir;
  std::vector<std::size_t> item_lines;
  ForEachRecord(dir / "items.jsonl", [&](const Record& r, std::size_t line) {
    auto item = ReadItem(r);
    const auto [it, fresh] = set.item_index.emplace(item.id, set.items.size());
    if (!fresh)
      r.Fail("field `id`: `" + item.id + "` repeats the item at line " +
             std::to_string(item_lines[it->second]));
    set.items.push_back(std::move(item));
    item_lines.push_back(line);
  });
  if (set.items.empty())
    throw ReplayError("replay: " + (dir / "items.jsonl").string() + " holds no items");
  ForEachRecord(dir / "outcomes.jsonl", [&](const Record& r, std::size_t line) {
    auto o = ReadOutcome(r, line);
    if (!set.item_index.contains(o.item))
      r.Fail("field `item`: `" + o.item + "` is not an id in items.jsonl");
    const auto [it, fresh] =
        set.outcome_index.emplace(PairKey(o.item, o.model), set.outcomes.size());
    if (!fresh)
      r.Fail("a second outcome for item `" + o.item + "` and model `" + o.model +
             "` (the first is at line " + std::to_string(set.outcomes[it->second].line) + ")");
    set.outcomes.push_back(std::move(o));
  });
  if (set.outcomes.empty())
    throw ReplayError("replay: " + (dir / "outcomes.jsonl").string() + " holds no outcomes");
  Reindex(set);
  return set;
}

}  // namespace triage::replay
