#include "providers/sim.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numbers>

namespace triage::providers {

std::optional<SimDifficulty> ParseSimDifficulty(std::string_view name) {
  if (name == "easy") return SimDifficulty::kEasy;
  if (name == "medium") return SimDifficulty::kMedium;
  if (name == "hard") return SimDifficulty::kHard;
  return std::nullopt;
}

SimDifficulty SimDifficultyForTier(core::Tier tier) {
  switch (tier) {
    case core::Tier::kTrivial:
    case core::Tier::kEasy:
      return SimDifficulty::kEasy;
    case core::Tier::kMedium:
      return SimDifficulty::kMedium;
    default:
      return SimDifficulty::kHard;
  }
}

SimProfile StandardSimProfile() { return {{0.95, 0.60, 0.20}, {500, 800, 1000}, 0.0, 0.5, 2.0}; }
SimProfile ReasoningSimProfile() {
  return {{0.98, 0.87, 0.72}, {3000, 5000, 8000}, 0.8, 15.0, 120.0};
}

namespace {


// A standard normal number fixed by `key` (Box–Muller over two uniforms).
double Normal(const std::string& key) {
  const double u1 = 1.0 - UniformDraw(key +
                                  "\x1f"
                                  "1");  // (0, 1]: log is finite
  const double u2 = UniformDraw(key +
                            "\x1f"
                            "2");
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// The draws of one call, by scope: the job's own (shared by every model and sample of the job),
// this model's on the job (shared by its samples), and this sample's.
class Draws {
 public:
  Draws(const SimOptions& o, const ModelRequest& r)
      : job_(std::to_string(o.seed) + '\x1f' + r.job_id),
        model_(job_ + '\x1f' + o.name),
        sample_(model_ + '\x1f' + std::to_string(r.sample)) {}
  double Job(std::string_view what) const { return UniformDraw("job\x1f" + job_ + Tag(what)); }
  double JobNormal(std::string_view what) const { return Normal("job\x1f" + job_ + Tag(what)); }
  double ModelNormal(std::string_view what) const {
    return Normal("model\x1f" + model_ + Tag(what));
  }
  double Sample(std::string_view what) const { return UniformDraw("sample\x1f" + sample_ + Tag(what)); }
  double SampleNormal(std::string_view what) const {
    return Normal("sample\x1f" + sample_ + Tag(what));
  }

 private:
  static std::string Tag(std::string_view what) { return "\x1f" + std::string(what); }
  std::string job_, model_, sample_;
};

// "-12" or "42": nothing else, no spaces, no plus sign, within range.
std::optional<long long> ParseInteger(std::string_view text) {
  const std::size_t first = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() == first || text.size() - first > 18) return std::nullopt;
  for (std::size_t i = first; i < text.size(); ++i)
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  return std::stoll(std::string(text));
}

// A wrong answer a model could plausibly give: half the time off by a few (a slip), half the
// time off by 10–50% of the value (a wrong step or operand). A count never turns negative.
std::string PlausibleWrong(const std::string& gold, double kind, double size, double sign) {
  const long long small = 1 + static_cast<long long>(size * 9);  // 1..9
  const auto g = ParseInteger(gold);
  if (!g) return gold.empty() ? "unknown" : gold + " + " + std::to_string(small);
  long long delta = small;
  if (kind >= 0.5)
    delta = std::max<long long>(
        1, std::llround(std::fabs(static_cast<double>(*g)) * (0.1 + 0.4 * size)));
  long long wrong = sign < 0.5 ? *g - delta : *g + delta;
  if (*g >= 0 && wrong < 0) wrong = *g + delta;
  return std::to_string(wrong);
}

// A worked line "expression = integer": where its value starts, and the value.
struct Claim {
  std::size_t line = 0;
  std::size_t value_at = 0;
  long long value = 0;
};

std::vector<Claim> Claims(const std::vector<std::string>& lines) {
  std::vector<Claim> claims;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto eq = lines[i].rfind(" = ");
    if (eq == std::string::npos) continue;
    if (const auto v = ParseInteger(std::string_view(lines[i]).substr(eq + 3)))
      claims.push_back({i, eq + 3, *v});
  }
  return claims;
}

std::vector<std::string> StepLines(const std::map<std::string, std::string>& hints) {
  const auto it = hints.find("steps");
  if (it == hints.end()) return {};
  const auto steps = nlohmann::json::parse(it->second, nullptr, false);
  const bool ok = steps.is_array() && std::all_of(steps.begin(), steps.end(),
                                                  [](const auto& s) { return s.is_string(); });
  if (!ok)
    throw ModelError("sim: hint `steps` must be a JSON array of strings (one line each)", false,
                     ErrorKind::kRequest);
  return steps.get<std::vector<std::string>>();
}

}  // namespace

SimOutcome Simulate(const SimOptions& o, const ModelRequest& r) {
  const SimProfile& p = o.profile;
  const Draws draw(o, r);
  SimDifficulty difficulty = SimDifficulty::kMedium;
  if (auto it = r.sim_hints.find("difficulty"); it != r.sim_hints.end()) {
    const auto parsed = ParseSimDifficulty(it->second);
    if (!parsed)
      throw ModelError(
          "sim: hint `difficulty` must be easy, medium or hard, got '" + it->second + "'", false,
          ErrorKind::kRequest);
    difficulty = *parsed;
  }
  const int d = static_cast<int>(difficulty);
  const auto gold_it = r.sim_hints.find("expected_answer");
  const std::string gold = gold_it == r.sim_hints.end() ? "" : gold_it->second;
  std::vector<std::string> lines = StepLines(r.sim_hints);

  SimOutcome out;
  // A hidden normal score decides correctness: one part is the job's (hard for every model),
  // one this model's on the job, one the sample's own. Right when its quantile is below the
  // accuracy, so P(right) is the profile's accuracy whatever the correlations.
  const double shared = std::clamp(p.cross_model_correlation, 0.0, 1.0);
  const double same = std::clamp(p.same_job_correlation, shared, 1.0);
  const double score = std::sqrt(shared) * draw.JobNormal("score") +
                       std::sqrt(same - shared) * draw.ModelNormal("score") +
                       std::sqrt(1.0 - same) * draw.SampleNormal("score");
  out.correct = NormalCdf(score) < p.accuracy[d];
  if (out.correct) {
    out.answer = gold.empty() ? "42" : gold;
  } else {
    // The job's shared wrong answer (a common misreading) or one of this sample's own.
    out.shared_wrong = draw.Sample("shared-wrong") < p.error_correlation;
    out.answer = out.shared_wrong
                     ? PlausibleWrong(gold, draw.Job("wrong-kind"), draw.Job("wrong-size"),
                                      draw.Job("wrong-sign"))
                     : PlausibleWrong(gold, draw.Sample("wrong-kind"), draw.Sample("wrong-size"),
                                      draw.Sample("wrong-sign"));
  }

  // The worked lines. A wrong answer shows either as a slip in the final step (its stated
  // result is wrong: a step check catches it) or as a wrong but correctly computed final step
  // (an extra term: nothing to catch). A right answer may carry a slip in an earlier step.
  const auto claims = Claims(lines);
  const bool final_step = !claims.empty() && claims.back().line + 1 == lines.size() &&
                          std::to_string(claims.back().value) == gold;
  const double slip = draw.Sample("slip");
  if (!out.correct && final_step) {
    const Claim& last = claims.back();
    std::string& line = lines[last.line];
    if (slip < p.slip_share) {
      line = line.substr(0, last.value_at) + out.answer;
      out.slipped = true;
    } else if (const auto wrong = ParseInteger(out.answer)) {
      const long long extra = *wrong - last.value;
      line = line.substr(0, last.value_at - 3) + (extra < 0 ? " - " : " + ") +
             std::to_string(extra < 0 ? -extra : extra) + " = " + out.answer;
    }
  } else if (out.correct && claims.size() >= 2 && slip < p.slip_when_right) {
    const auto pick = static_cast<std::size_t>(draw.Sample("slip-line") * (claims.size() - 1));
    const Claim& c = claims[pick];
    const long long off = 1 + static_cast<long long>(draw.Sample("slip-size") * 9);
    lines[c.line] = lines[c.line].substr(0, c.value_at) +
                    std::to_string(draw.Sample("slip-sign") < 0.5 ? c.value - off : c.value + off);
    out.slipped = true;
  }

  // Self-reported confidence (the seed: imperfectly calibrated, often overconfident when wrong).
  const double mean = out.correct ? p.confidence_right : p.confidence_wrong;
  const double confidence =
      std::clamp(mean + p.confidence_spread * draw.SampleNormal("confidence"), 0.0, 1.0);
  const long percent = std::lround(confidence * 100);
  out.confidence = static_cast<double>(percent) / 100.0;
  // The confidence line comes before the answer line, so a reader that takes everything after
  // the last "answer is" gets the bare answer.
  for (const auto& line : lines) out.text += line + '\n';
  out.text += "CONFIDENCE: " + std::to_string(percent) + "\nThe answer is " + out.answer + ".";

  const auto tokens = static_cast<std::int64_t>(p.tokens[d] * (0.75 + 0.5 * draw.Sample("tokens")));
  out.usage.input = static_cast<std::int64_t>(r.prompt.size() / 4) + 20;
  out.usage.reasoning = static_cast<std::int64_t>(tokens * p.reasoning_share);
  out.usage.output = tokens - out.usage.reasoning;
  // Harder tasks sit higher in the latency range: easy in the lower half, hard in the upper.
  const double position = 0.25 * d + 0.5 * draw.Sample("latency");
  const double seconds = p.latency_min_s + (p.latency_max_s - p.latency_min_s) * position;
  out.latency = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000 * o.time_scale));
  return out;
}

SimModel::SimModel(SimOptions options) : options_(std::move(options)) {}

boost::asio::awaitable<ModelResponse> SimModel::Complete(ModelRequest request, Deadline deadline) {
  const SimOutcome outcome = Simulate(options_, request);
  const auto start = std::chrono::steady_clock::now();
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const bool late = start + outcome.latency > deadline;
  timer.expires_at(late ? deadline : start + outcome.latency);
  const auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (ec == boost::asio::error::operation_aborted) {
    const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
    const std::chrono::duration<double> whole = outcome.latency;
    const double share = whole.count() > 0 ? waited.count() / whole.count() : 1.0;
    throw ModelError::Cancelled(options_.name + ": cancelled mid-call",
                                CutOffUsage(outcome.usage, share));
  }
  if (late) throw ModelError(options_.name + ": deadline exceeded", true, ErrorKind::kTimeout);
  ModelResponse response;
  response.text = outcome.text;
  response.finish_reason = "stop";
  response.usage = outcome.usage;
  response.latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  response.model = options_.name;
  response.provider_id = "sim-" + request.job_id + "-" + std::to_string(request.sample) + "-" +
                         std::to_string(request.attempt);

  response.simulated = true;
  co_return response;
}

core::Usage CutOffUsage(const core::Usage& usage, double share) {
  const double s = std::clamp(share, 0.0, 1.0);
  auto part = [s](std::int64_t tokens) {
    return static_cast<std::int64_t>(std::floor(static_cast<double>(tokens) * s));
  };
  core::Usage out = usage;
  out.output = part(usage.output);
  out.reasoning = part(usage.reasoning);
  return out;
}

}  // namespace triage::providers
