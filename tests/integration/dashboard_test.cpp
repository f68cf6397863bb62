// The dashboard end to end: jobs through the real broker and database, feedback on some, then
// the page (GET /) loaded in headless Chromium; every figure it rendered must equal what the
// same /metrics says, computed here on its own (sums, ratios, Prometheus' histogram_quantile).
// Chromium may reach only 127.0.0.1. A screenshot is kept in the build directory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "app/commands.hpp"
#include "app/pipeline.hpp"
#include "support.hpp"

namespace triage::app {
namespace {
using nlohmann::json;
namespace t = triage::testing;

// A number as the text format or the page writes it; a clear failure otherwise.
double Num(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw std::runtime_error("not a number: '" + text + "'");
  return v;
}

// One sample line of the text format.
struct Series {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Series> Parse(const std::string& text) {
  std::vector<Series> out;
  std::istringstream in(text);
  static const std::regex kLine(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$)");
  static const std::regex kLabel(R"re(([a-zA-Z_]+)="([^"]*)")re");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.empty() || line[0] == '#' || !std::regex_match(line, m, kLine)) continue;
    Series s{m[1], {}, Num(m[4])};
    const std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), kLabel), end; it != end; ++it)
      s.labels[(*it)[1]] = (*it)[2];
    out.push_back(std::move(s));
  }
  return out;
}

using Labels = std::map<std::string, std::string>;
double Sum(const std::vector<Series>& all, const std::string& name, const Labels& want = {}) {
  double sum = 0;
  for (const auto& s : all) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) match = match && s.labels.contains(k) && s.labels.at(k) == v;
    if (match) sum += s.value;
  }
  return sum;
}

// histogram_quantile(q, sum by (le) (name_bucket)), as Prometheus computes it.
double Quantile(double q, const std::vector<Series>& all, const std::string& name) {
  std::map<double, double> by_le;
  for (const auto& s : all)
    if (s.name == name + "_bucket") by_le[Num(s.labels.at("le"))] += s.value;
  if (by_le.size() < 2 || !std::isinf(by_le.rbegin()->first)) return NAN;
  const double total = by_le.rbegin()->second;
  if (total == 0) return NAN;
  const double rank = q * total;
  double prev_le = 0, prev_count = 0;
  for (auto it = by_le.begin(); it != by_le.end(); ++it) {
    if (std::next(it) == by_le.end()) return prev_le;  // the rank is in the +Inf bucket
    if (it->second >= rank)
      return prev_le + (it->first - prev_le) * ((rank - prev_count) / (it->second - prev_count));
    prev_le = it->first;
    prev_count = it->second;
  }
  return NAN;
}

// The attributes of every tag in `page` (a dumped DOM) that has attribute `marker`; the
// script's own text, which builds such tags, is not looked at.
std::vector<Labels> TagsWith(const std::string& page, const std::string& marker) {
  const auto script = page.find("<script>"), script_end = page.find("</script>");
  const std::string dom = script == std::string::npos || script_end == std::string::npos
                              ? page
                              : page.substr(0, script) + page.substr(script_end);
  std::vector<Labels> out;
  static const std::regex kTag(R"(<[a-z]+\s[^>]*>)");
  static const std::regex kAttr(R"re(([a-zA-Z-]+)="([^"]*)")re");
  for (std::sregex_iterator it(dom.begin(), dom.end(), kTag), end; it != end; ++it) {
    const std::string tag = (*it)[0];
    if (tag.find(" " + marker + "=\"") == std::string::npos) continue;
    Labels attrs;
    for (std::sregex_iterator a(tag.begin(), tag.end(), kAttr), e; a != e; ++a)
      attrs[(*a)[1]] = (*a)[2];
    out.push_back(std::move(attrs));
  }
  return out;
}

// The data-value of the element with `id` ("" when it shows no figure).
std::string Shown(const std::string& dom, const std::string& id) {
  for (const auto& tag : TagsWith(dom, "id"))
    if (tag.at("id") == id) return tag.contains("data-value") ? tag.at("data-value") : "missing";
  return "no element #" + id;
}

void ExpectShown(const std::string& dom, const std::string& id, double want) {
  const auto shown = Shown(dom, id);
  if (std::isnan(want)) {
    EXPECT_EQ(shown, "") << "#" << id;
    return;
  }
  char* end = nullptr;
  const double got = std::strtod(shown.c_str(), &end);
  ASSERT_TRUE(!shown.empty() && end && *end == '\0') << "#" << id << " shows '" << shown << "'";
  EXPECT_NEAR(got, want, 1e-9 * std::max(1.0, std::fabs(want))) << "#" << id;
}

// Headless Chromium on `url` with every background fetch turned off and every host but
// 127.0.0.1 unresolvable; `action` is --dump-dom or --screenshot=<file>. Returns its stdout.
std::string Chromium(const std::string& url, const std::string& action,
                     const std::string& profile) {
  const std::string command =
      "timeout -k 5 40 chromium --headless --no-sandbox --disable-gpu --no-first-run"
      " --no-default-browser-check --disable-background-networking --disable-component-update"
      " --disable-sync --disable-default-apps --disable-extensions --disable-domain-reliability"
      " --disable-client-side-phishing-detection --disable-breakpad --metrics-recording-only"
      " --disable-features=Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying"
      " --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' --no-proxy-server"
      " --user-data-dir=" +
      profile + " --window-size=1280,1600 --virtual-time-budget=7000 " + action + " '" + url +
      "' 2>" + profile + "/stderr.log";
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[65536];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

class Dashboard : public t::PipelineTest {
 protected:
  void SetUp() override {
    config.metrics_sample_interval_ms = 200;
    Start();
  }
};

TEST_F(Dashboard, ThePageShowsWhatMetricsSaysAndNeverLeavesTheHost) {
  ASSERT_EQ(std::system("command -v chromium >/dev/null"), 0)
      << "chromium is not installed (Hint: deploy/local/install-deps installs it)";
  const auto page = Send("GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>triage dashboard</title>"), std::string::npos);
  // Nothing on the page points anywhere but its own origin (the SVG namespace is a name).
  const auto own = std::regex_replace(page.body, std::regex("http://www\\.w3\\.org/2000/svg"), "");
  EXPECT_EQ(own.find("://"), std::string::npos);
  EXPECT_EQ(own.find("//cdn"), std::string::npos);

  // Jobs of every kind: inline, some escalating, some for the reasoning queue; while they run,
  // the page is loaded once already (it must render mid-flow without errors).
  // A third of the easy ones carry a check their answer passes, a third one it fails (so they
  // escalate, and end with a failed verification).
  struct Task {
    std::string text, difficulty, answer, gold;
  };
  std::vector<Task> tasks;
  for (int i = 0; i < 12; ++i) {
    const auto answer = std::to_string(i + 5);
    tasks.push_back({"What is " + std::to_string(i) + " + 5?", "easy", answer,
                     i % 3 == 0   ? answer
                     : i % 3 == 1 ? "-1"
                                  : ""});
  }
  for (int i = 0; i < 4; ++i)
    tasks.push_back({"Prove that the sum of the first " + std::to_string(i + 3) +
                         " odd numbers is a square, step by step.",
                     "medium", std::to_string((i + 3) * (i + 3)), ""});
  tasks.push_back({"How many ways can 6 people sit around a round table?", "hard", "120", ""});
  std::vector<std::string> ids;
  for (const auto& task : tasks) {
    json body = {{"task", task.text},
                 {"domain", "math"},
                 {"callback_url", receiver->url()},
                 {"metadata",
                  {{"sim", {{"difficulty", task.difficulty}, {"expected_answer", task.answer}}}}}};
    if (!task.gold.empty()) body["verify"] = {{"kind", "math"}, {"gold", task.gold}};
    const auto res = Send("POST", "/v1/jobs", body.dump());
    ASSERT_EQ(res.status, 202) << res.body;
    ids.push_back(json::parse(res.body)["id"].get<std::string>());
  }
  const auto profile = std::filesystem::temp_directory_path() / t::UniqueName("dashboard-chromium");
  std::filesystem::create_directories(profile);
  const auto mid_flow = Chromium(ApiUrl("/"), "--dump-dom", profile.string());
  EXPECT_NE(mid_flow.find("data-state=\"ok\""), std::string::npos) << mid_flow.substr(0, 2000);

  ASSERT_TRUE(
      t::WaitFor([&] { return receiver->DistinctJobs() == ids.size(); }, std::chrono::seconds(60)))
      << receiver->DistinctJobs() << " of " << ids.size();
  // Truth arriving later: some judged right, some against a gold answer (one of them wrong).
  int stored = 0;
  for (std::size_t i = 0; i < ids.size(); i += 2) {
    const auto body = i % 4 == 0   ? std::string(R"({"correct": true})")
                      : i % 8 == 6 ? std::string(R"({"gold": "999"})")
                                   : json{{"gold", tasks[i].answer}}.dump();
    stored += Send("POST", "/v1/jobs/" + ids[i] + "/feedback", body).status == 201 ? 1 : 0;
  }
  EXPECT_GE(stored, 4);
  // Quiet: every gauge sampled at zero, then /metrics read before and after the page loads
  // (the same text: nothing moved while the browser looked).
  std::string before;
  ASSERT_TRUE(t::WaitFor(
      [&] {
        before = Send("GET", "/metrics").body;
        const auto s = Parse(before);
        return Sum(s, "triage_outbox_depth_rows") == 0 &&
               Sum(s, "triage_kafka_consumer_lag_messages") == 0 &&
               Sum(s, "triage_kafka_paused_partitions") == 0 &&
               Sum(s, "triage_webhook_deliveries_total") >= ids.size();
      },
      std::chrono::seconds(30)))
      << before;
  const auto dom = Chromium(ApiUrl("/"), "--dump-dom", profile.string());
  const auto after = Send("GET", "/metrics").body;
  ASSERT_EQ(Parse(before).size(), Parse(after).size());
  const auto s = Parse(after);
  EXPECT_EQ(Sum(Parse(before), "triage_jobs_finished_total"), Sum(s, "triage_jobs_finished_total"));

  const auto status = TagsWith(dom, "data-polls");
  ASSERT_EQ(status.size(), 1u) << dom.substr(0, 3000);
  EXPECT_EQ(status[0].at("data-state"), "ok");
  EXPECT_GE(std::stoi(status[0].at("data-polls")), 2);

  const double finished = Sum(s, "triage_jobs_finished_total");
  const double escalations = Sum(s, "triage_escalations_total");
  const double judged = Sum(s, "triage_feedback_total");
  const double correct = Sum(s, "triage_feedback_total", {{"correct", "true"}});
  EXPECT_EQ(finished, static_cast<double>(ids.size()));
  EXPECT_EQ(judged, stored);
  ExpectShown(dom, "jobs-finished", finished);
  ExpectShown(dom, "jobs-accepted", Sum(s, "triage_jobs_accepted_total"));
  ExpectShown(dom, "throughput", 0);  // quiet between the page's last two polls
  ExpectShown(dom, "escalations", escalations);
  ExpectShown(dom, "escalation-rate", escalations / finished);
  ExpectShown(dom, "latency-p50", Quantile(0.5, s, "triage_job_duration_seconds"));
  ExpectShown(dom, "latency-p95", Quantile(0.95, s, "triage_job_duration_seconds"));
  ExpectShown(dom, "latency-p99", Quantile(0.99, s, "triage_job_duration_seconds"));
  ExpectShown(dom, "cost-per-correct",
              correct > 0 ? Sum(s, "triage_feedback_cost_micro_dollars_total") / correct : NAN);
  ExpectShown(dom, "accuracy", 100 * correct / judged);
  ExpectShown(dom, "judged", judged);
  ExpectShown(dom, "outbox-webhook", 0);
  ExpectShown(dom, "outbox-kafka", 0);
  ExpectShown(dom, "consumer-lag", 0);
  ExpectShown(dom, "paused-partitions", 0);
  const double lookups = Sum(s, "triage_cache_lookups_total");
  ExpectShown(
      dom, "cache-hit-ratio",
      lookups > 0 ? Sum(s, "triage_cache_lookups_total", {{"result", "hit"}}) / lookups : NAN);

  // The bars: jobs by tier and state, escalations by reason, accuracy by tier.
  double tier_cells = 0;
  for (const auto& cell : TagsWith(dom, "data-state")) {
    if (!cell.contains("data-tier")) continue;
    tier_cells += Num(cell.at("data-value"));
    EXPECT_EQ(Num(cell.at("data-value")),
              Sum(s, "triage_jobs_finished_total",
                  {{"tier", cell.at("data-tier")}, {"state", cell.at("data-state")}}))
        << cell.at("data-tier") << "/" << cell.at("data-state");
  }
  EXPECT_EQ(tier_cells, finished);
  double reasons = 0;
  for (const auto& bar : TagsWith(dom, "data-reason")) {
    reasons += Num(bar.at("data-value"));
    EXPECT_EQ(Num(bar.at("data-value")),
              Sum(s, "triage_escalations_total", {{"reason", bar.at("data-reason")}}));
  }
  EXPECT_EQ(reasons, escalations);
  int tiers_judged = 0;
  for (const auto& bar : TagsWith(dom, "data-tier")) {
    if (bar.contains("data-state")) continue;  // a tier × state cell, above
    ++tiers_judged;
    const auto tier = bar.at("data-tier");
    EXPECT_NEAR(Num(bar.at("data-value")),
                100 * Sum(s, "triage_feedback_total", {{"tier", tier}, {"correct", "true"}}) /
                    Sum(s, "triage_feedback_total", {{"tier", tier}}),
                1e-9)
        << tier;
  }
  EXPECT_GE(tiers_judged, 1);
  for (const auto& cell : TagsWith(dom, "data-calls"))
    EXPECT_EQ(Num(cell.at("data-calls")),
              Sum(s, "triage_model_calls_total", {{"model", cell.at("data-model")}}))
        << cell.at("data-model");
  EXPECT_FALSE(TagsWith(dom, "data-calls").empty());

  const auto shot = std::filesystem::path(TRIAGE_BUILD_DIR) / "dashboard.png";
  std::filesystem::remove(shot);
  Chromium(ApiUrl("/"), "--screenshot=" + shot.string(), profile.string());
  EXPECT_TRUE(std::filesystem::exists(shot) && std::filesystem::file_size(shot) > 10000)
      << "no screenshot at " << shot;
  std::filesystem::remove_all(profile);
}

}  // namespace
}  // namespace triage::app
