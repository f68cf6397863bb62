#include "route/router_features.hpp"

#include <algorithm>
#include <cmath>

#include "route/confidence.hpp"
#include "verify/extract.hpp"
#include "verify/steps.hpp"
#include "verify/vote.hpp"

namespace triage::route {
namespace {

float Log1p(size_t count) { return std::log1p(static_cast<float>(count)); }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'';
}

// Words and phrases by which an answer shows doubt or a change of mind.
constexpr std::array<std::string_view, 22> kHedges = {
    "approximately", "roughly",   "assume",   "assuming",  "however",  "not sure",
    "unclear",       "might",     "maybe",    "perhaps",   "possibly", "probably",
    "i think",       "i believe", "cannot",   "can't",     "actually", "wait",
    "mistake",       "ambiguous", "estimate", "impossible"};

size_t CountHedges(std::string_view text) {
  std::string lower(text.size(), ' ');
  std::transform(text.begin(), text.end(), lower.begin(), Lower);
  size_t count = 0;
  for (const auto& h : kHedges)
    for (size_t pos = lower.find(h); pos != std::string::npos; pos = lower.find(h, pos + 1))
      if ((pos == 0 || !IsWordChar(lower[pos - 1])) &&
          (pos + h.size() == lower.size() || !IsWordChar(lower[pos + h.size()])))
        ++count;
  return count;
}

enum class Form { kInteger, kDecimal, kFraction, kOther };
Form AnswerForm(std::string_view a) {
  std::string s;
  for (char c : a)
    if (c != ',' && c != ' ' && c != '$') s.push_back(c);
  if (!s.empty() && s[0] == '-') s.erase(0, 1);
  if (s.empty()) return Form::kOther;
  if (s.find("\\frac") != std::string::npos) return Form::kFraction;
  const bool digits_dot_slash = std::all_of(
      s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '/'; });
  if (!digits_dot_slash) return Form::kOther;
  if (s.find('/') != std::string::npos) return Form::kFraction;
  return s.find('.') != std::string::npos ? Form::kDecimal : Form::kInteger;
}

// A response that stops mid-sentence was often cut off by the token limit.
bool EndsCleanly(std::string_view text) {
  const size_t last = text.find_last_not_of(" \t\r\n");
  if (last == std::string_view::npos) return false;
  if (std::string_view(".!?)]}$*`").find(text[last]) != std::string_view::npos) return true;
  const size_t line = text.rfind('\n', last);
  return text.substr(line == std::string_view::npos ? 0 : line + 1).starts_with("####");
}

// Share of the other samples whose answer is equivalent to this one's.
float Agreement(const RouterAnswer& answer) {
  if (answer.other_samples.empty()) return 0;
  std::vector<std::string> all;
  all.reserve(answer.other_samples.size() + 1);
  all.emplace_back(answer.response);
  all.insert(all.end(), answer.other_samples.begin(), answer.other_samples.end());
  const auto vote = verify::MajorityVote(all);
  for (const auto& cls : vote.classes)
    if (std::find(cls.members.begin(), cls.members.end(), 0) != cls.members.end())
      return static_cast<float>(cls.members.size() - 1) /
             static_cast<float>(answer.other_samples.size());
  return 0;  // this answer was unreadable
}

// Answer words share the task's bucket space, moved by a fixed mask so that the same word in
// the task and in the answer lands in different buckets (a bijection: no new hash function).
constexpr uint32_t kAnswerBucketMask = 0x5a5a5a5au;

void AppendAnswer(const RouterFeatureConfig& config, std::string_view task_text,
                  const RouterAnswer& answer, RouterRow& row) {
  const std::string_view r = answer.response;
  const auto extraction = verify::ExtractAnswer(r);
  const auto steps = verify::CheckSteps(r);
  const auto self = ParseSelfReport(r);
  const size_t hedges = CountHedges(r);
  std::array<float, kAnswerDenseCount> d{};
  size_t i = 0;
  d[i++] = Log1p(r.size());
  d[i++] = std::log((r.size() + 1.0f) / (task_text.size() + 1.0f));
  d[i++] = extraction ? 1.0f : 0.0f;
  // One indicator per extraction method (kBare is the verifier's own and never extracted here).
  constexpr int kMethods = 7;
  for (int m = 0; m < kMethods; ++m)
    d[i++] = extraction && static_cast<int>(extraction->method) == m ? 1.0f : 0.0f;
  d[i++] = extraction && !r.empty()
               ? static_cast<float>(r.size() - extraction->end) / static_cast<float>(r.size())
               : 1.0f;
  const Form form = extraction ? AnswerForm(extraction->answer) : Form::kOther;
  d[i++] = extraction && form == Form::kInteger ? 1.0f : 0.0f;
  d[i++] = extraction && form == Form::kDecimal ? 1.0f : 0.0f;
  d[i++] = extraction && form == Form::kFraction ? 1.0f : 0.0f;
  d[i++] = extraction && extraction->answer.starts_with('-') ? 1.0f : 0.0f;
  d[i++] = extraction && form == Form::kOther ? 1.0f : 0.0f;
  d[i++] = extraction ? Log1p(extraction->answer.size()) : 0.0f;
  d[i++] = steps.verdict.outcome == verify::Outcome::kPassed ? 1.0f : 0.0f;
  d[i++] = steps.verdict.outcome == verify::Outcome::kFailed ? 1.0f : 0.0f;
  d[i++] = steps.verdict.outcome == verify::Outcome::kNoClaims ? 1.0f : 0.0f;
  d[i++] = Log1p(steps.claims.size());
  d[i++] = Log1p(static_cast<size_t>(steps.wrong));
  d[i++] = steps.claims.empty() ? 0.0f : static_cast<float>(steps.wrong) / steps.claims.size();
  d[i++] = Log1p(hedges);
  d[i++] = hedges > 0 ? 1.0f : 0.0f;
  d[i++] = self.confidence ? 1.0f : 0.0f;
  d[i++] = self.confidence ? static_cast<float>(*self.confidence) : 0.0f;
  d[i++] = EndsCleanly(r) ? 1.0f : 0.0f;
  d[i++] = Log1p(answer.other_samples.size());
  d[i++] = Agreement(answer);
  d[i++] = answer.other_samples.empty() ? 0.0f : 1.0f;
  row.dense.insert(row.dense.end(), d.begin(), d.end());

  if (config.answer_text) {
    classify::Features f;
    classify::ExtractFeatures(r, config.text, f);
    const uint32_t mask = kAnswerBucketMask & ((uint32_t{1} << config.text.hash_bits) - 1);
    for (const auto& h : f.hashed)
      row.hashed.emplace_back(h.bucket ^ mask, f.kind_scale[static_cast<int>(h.kind)]);
  }
}

}  // namespace

std::string_view ToString(RouterKind kind) {
  return kind == RouterKind::kBefore ? "before" : "after";
}

std::optional<RouterKind> ParseRouterKind(std::string_view name) {
  if (name == "before") return RouterKind::kBefore;
  if (name == "after") return RouterKind::kAfter;
  return std::nullopt;
}

std::string LabelKey(std::string_view key, std::string_view value) {
  return std::string(key) + "=" + std::string(value);
}

int DenseCount(const RouterFeatureConfig& config) {
  return kTaskDenseCount + (config.kind == RouterKind::kAfter ? kAnswerDenseCount : 0) +
         static_cast<int>(config.vocabulary.size());
}

std::vector<std::string> DenseNames(const RouterFeatureConfig& config) {
  std::vector<std::string> names{"has_text"};
  for (const auto& n : classify::kDenseNames) names.push_back("task:" + std::string(n));
  for (const auto t : core::kAllTiers) names.push_back("p_" + std::string(core::ToString(t)));
  names.emplace_back("has_tier_probabilities");
  if (config.kind == RouterKind::kAfter)
    for (const auto& n : kAnswerDenseNames) names.push_back("answer:" + std::string(n));
  for (const auto& v : config.vocabulary) names.push_back("label:" + v);
  return names;
}

RouterRow BuildRouterRow(const RouterFeatureConfig& config, const RouterTask& task,
                         const RouterAnswer* answer) {
  RouterRow row;
  row.dense.reserve(DenseCount(config));
  row.dense.push_back(task.text.empty() ? 0.0f : 1.0f);
  if (!task.text.empty()) {
    classify::Features f;
    classify::ExtractFeatures(task.text, config.text, f);
    for (const auto& h : f.hashed)
      row.hashed.emplace_back(h.bucket, f.kind_scale[static_cast<int>(h.kind)]);
    row.dense.insert(row.dense.end(), f.dense.begin(), f.dense.end());
  } else {
    row.dense.insert(row.dense.end(), classify::kDenseCount, 0.0f);
  }
  for (int t = 0; t < core::kTierCount; ++t)
    row.dense.push_back(task.tier_probabilities ? static_cast<float>((*task.tier_probabilities)[t])
                                                : 0.0f);
  row.dense.push_back(task.tier_probabilities ? 1.0f : 0.0f);
  if (config.kind == RouterKind::kAfter) {
    static const RouterAnswer kNone{};
    AppendAnswer(config, task.text, answer ? *answer : kNone, row);
  }
  for (const auto& v : config.vocabulary) {
    bool on = false;
    for (const auto& [key, value] : task.labels)
      if (v.size() == key.size() + 1 + value.size() && v.starts_with(key) && v[key.size()] == '=' &&
          std::string_view(v).substr(key.size() + 1) == value)
        on = true;
    row.dense.push_back(on ? 1.0f : 0.0f);
  }
  return row;
}

}  // namespace triage::route
