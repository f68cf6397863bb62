// chaos_check: the chaos run's verdict. Waits (up to `--wait-seconds`) until every acknowledged
// job is final with its completion published and its webhook done, then reads what each witness
// recorded -- the database, the `<prefix>.completed` topic from its start, the receiver's log --
// and prints one figure a line. Exits 1 when a job was lost, left unfinished or completed twice,
// or a row, event or webhook is missing or extra.
//
// Inputs: `--acks` (chaos_load's lines "<index> <id> <via> <unix ms>"), `--webhooks`
// (chaos_receiver's "<unix ms> <status> <webhook-id> <job id> <body hash>"), `--faults` (the
// run's "<name> <start unix ms> <end unix ms>").
#include <fmt/core.h>
#include <librdkafka/rdkafkacpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <thread>

namespace {
using Clock = std::chrono::steady_clock;

struct Ack {
  std::string id, via;
  std::int64_t ms = 0;
};
struct Fault {
  std::string name;
  std::int64_t start_ms = 0, end_ms = 0;
};
struct Hook {
  int status = 0;
  std::string webhook_id, job_id, hash;
};
struct JobRow {
  std::string state, route;
  std::int64_t completed_ms = 0, published_ms = 0, webhook_ms = 0;  // 0: not yet
  bool has_outbox = false, webhook_dead = false;
};
// What the completed topic and the webhooks carried for one job.
struct Witness {
  int events = 0, delivered = 0, refused = 0;
  std::set<std::string> bodies, webhook_ids;
};

const std::set<std::string> kFinal = {"completed", "failed", "expired", "cancelled"};

std::vector<std::vector<std::string>> ReadLines(const std::string& path, std::size_t fields) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.size() == fields) out.push_back(std::move(w));  // a torn last line is skipped
  }
  return out;
}

std::map<std::string, JobRow> ReadJobs(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  std::map<std::string, JobRow> jobs;
  const auto ms = [](const char* column) {
    return fmt::format("coalesce((extract(epoch FROM {}) * 1000)::bigint, 0)", column);
  };
  for (const auto& r : tx.exec(fmt::format(
           "SELECT j.id::text, j.state, coalesce(j.route, ''), {}, o.id IS NOT NULL, {}, {},"
           " coalesce(o.webhook_dead, false) FROM jobs j LEFT JOIN outbox o ON o.job_id = j.id",
           ms("j.completed_at"), ms("o.kafka_published_at"), ms("o.webhook_done_at")))) {
    jobs[r[0].as<std::string>()] = {r[1].as<std::string>(),  r[2].as<std::string>(),
                                    r[3].as<std::int64_t>(), r[5].as<std::int64_t>(),
                                    r[6].as<std::int64_t>(), r[4].as<bool>(),
                                    r[7].as<bool>()};
  }
  return jobs;
}

int Count(pqxx::connection& conn, const std::string& sql) {
  pqxx::read_transaction tx(conn);
  return tx.exec(sql)[0][0].as<int>();
}

// Every acknowledged job final, published and its webhook done.
bool Settled(const std::map<std::string, Ack>& acks, const std::map<std::string, JobRow>& jobs) {
  for (const auto& [id, ack] : acks) {
    const auto it = jobs.find(id);
    if (it == jobs.end() || !kFinal.contains(it->second.state) || !it->second.published_ms ||
        !it->second.webhook_ms)
      return false;
  }
  return true;
}

// Every event on `topic` from the start, as (key, payload hash).
std::vector<std::pair<std::string, std::string>> ReadTopic(const std::string& brokers,
                                                           const std::string& topic) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", "chaos-check", err);  // assign() only: it never joins the group
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) throw std::runtime_error("kafka consumer: " + err);
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(consumer.get(), topic, nullptr, err));
  if (consumer->metadata(false, handle.get(), &raw, 10000) != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error("kafka metadata of " + topic);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> parts;
  std::map<int, std::int64_t> high;  // partition -> end offset still to reach
  for (const auto* t : *metadata->topics())
    for (const auto* p : *t->partitions()) {
      std::int64_t lo = 0, hi = 0;
      consumer->query_watermark_offsets(topic, p->id(), &lo, &hi, 10000);
      if (hi > lo) high[p->id()] = hi;
      parts.push_back(
          RdKafka::TopicPartition::create(topic, p->id(), RdKafka::Topic::OFFSET_BEGINNING));
    }
  consumer->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  std::vector<std::pair<std::string, std::string>> events;
  const auto until = Clock::now() + std::chrono::seconds(120);
  while (!high.empty() && Clock::now() < until) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(500));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    const std::string payload(static_cast<const char*>(m->payload()), m->len());
    events.emplace_back(m->key() ? *m->key() : "",
                        std::to_string(std::hash<std::string>{}(payload)));
    if (auto it = high.find(m->partition()); it != high.end() && m->offset() + 1 >= it->second)
      high.erase(it);
  }
  consumer->close();
  if (!high.empty()) throw std::runtime_error("could not read " + topic + " to its end in 120 s");
  return events;
}

double Seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chaos_check: checks and reports the chaos run"};
  std::string dsn, brokers, topic, acks_path, hooks_path, faults_path;
  int wait_seconds = 600;
  app.add_option("--dsn", dsn)->required();
  app.add_option("--brokers", brokers)->required();
  app.add_option("--completed-topic", topic)->required();
  app.add_option("--acks", acks_path)->required();
  app.add_option("--webhooks", hooks_path)->required();
  app.add_option("--faults", faults_path)->required();
  app.add_option("--wait-seconds", wait_seconds)->check(CLI::Range(0, 86400));
  CLI11_PARSE(app, argc, argv);

  std::map<std::string, Ack> acks;
  int http = 0;
  for (const auto& w : ReadLines(acks_path, 4)) {
    acks[w[1]] = {w[1], w[2], std::stoll(w[3])};
    http += w[2] == "http";
  }
  std::vector<Fault> faults;
  for (const auto& w : ReadLines(faults_path, 3))
    faults.push_back({w[0], std::stoll(w[1]), std::stoll(w[2])});

  pqxx::connection conn(dsn);
  std::map<std::string, JobRow> jobs;
  const auto wait_start = Clock::now();
  const auto until = wait_start + std::chrono::seconds(wait_seconds);
  for (auto last_report = wait_start;; std::this_thread::sleep_for(std::chrono::seconds(1))) {
    jobs = ReadJobs(conn);
    if (Settled(acks, jobs) || Clock::now() >= until) break;
    if (Clock::now() - last_report >= std::chrono::seconds(15)) {
      int final = 0;
      for (const auto& [id, ack] : acks)
        final += jobs.contains(id) && kFinal.contains(jobs[id].state) && jobs[id].webhook_ms;
      fmt::print("chaos_check: waiting: {} of {} jobs final and told\n", final, acks.size());
      std::fflush(stdout);
      last_report = Clock::now();
    }
  }
  const double waited = std::chrono::duration<double>(Clock::now() - wait_start).count();

  std::map<std::string, Witness> seen;
  int hooks_total = 0, hooks_refused = 0;
  for (const auto& w : ReadLines(hooks_path, 5)) {
    auto& s = seen[w[3]];
    ++hooks_total;
    s.bodies.insert(w[4]);
    s.webhook_ids.insert(w[2]);
    if (w[1] == "200")
      ++s.delivered;
    else
      ++s.refused, ++hooks_refused;
  }
  const auto events = ReadTopic(brokers, topic);
  for (const auto& [key, hash] : events) {
    ++seen[key].events;
    seen[key].bodies.insert(hash);
  }

  int lost = 0, unfinished = 0, twice = 0, no_outbox = 0, hooks_missing = 0, events_missing = 0,
      hooks_dead = 0, duplicate_hooks = 0, duplicate_events = 0, id_mismatch = 0;
  std::map<std::string, int> states, routes;
  std::int64_t longest = 0;
  std::string longest_id;
  for (const auto& [id, ack] : acks) {
    const auto it = jobs.find(id);
    if (it == jobs.end()) {
      ++lost;
      continue;
    }
    const auto& j = it->second;
    ++states[j.state];
    ++routes[j.route.empty() ? "none" : j.route];
    if (!kFinal.contains(j.state)) {
      ++unfinished;
      continue;
    }
    if (!j.has_outbox) ++no_outbox;
    if (j.webhook_dead) ++hooks_dead;
    if (j.completed_ms - ack.ms > longest) longest = j.completed_ms - ack.ms, longest_id = id;
    const auto& s = seen[id];
    if (s.bodies.size() > 1) ++twice;  // two different completions were sent out
    if (s.delivered == 0) ++hooks_missing;
    duplicate_hooks += std::max(0, s.delivered - 1);
    if (s.webhook_ids.size() > 1 ||
        (!s.webhook_ids.empty() && *s.webhook_ids.begin() != "msg_" + id))
      ++id_mismatch;
    if (s.events == 0) ++events_missing;
    duplicate_events += std::max(0, s.events - 1);
  }
  int strangers = 0;  // jobs in the database or sent out that nobody acknowledged
  for (const auto& [id, row] : jobs) strangers += !acks.contains(id);
  for (const auto& [id, s] : seen) strangers += !acks.contains(id) && !jobs.contains(id);
  const int orphans = Count(conn,
                            "SELECT count(*) FROM attempts a WHERE NOT EXISTS"
                            " (SELECT 1 FROM jobs j WHERE j.id = a.job_id)");
  const int extra_outbox = Count(conn, "SELECT count(*) - count(DISTINCT job_id) FROM outbox");
  const int in_flight_left = Count(conn,
                                   "SELECT count(*) FROM attempts a JOIN jobs j ON j.id = a.job_id"
                                   " WHERE a.verdict = 'in_flight' AND j.state IN"
                                   " ('completed', 'failed', 'expired', 'cancelled')");
  const int abandoned = Count(conn, "SELECT count(*) FROM attempts WHERE verdict = 'abandoned'");

  fmt::print("acknowledged {}\n", acks.size());
  fmt::print("acknowledged over http {}\n", http);
  fmt::print("acknowledged over kafka {}\n", acks.size() - http);
  const int final = static_cast<int>(acks.size()) - lost - unfinished;
  fmt::print("final {}\n", final);
  for (const auto& [state, n] : states) fmt::print("state {} {}\n", state, n);
  for (const auto& [route, n] : routes) fmt::print("route {} {}\n", route, n);
  fmt::print("final with exactly one outbox row {}\n", final - no_outbox);
  fmt::print("lost {}\n", lost);
  fmt::print("unfinished {}\n", unfinished);
  fmt::print("completed twice {}\n", twice);
  fmt::print("extra outbox rows {}\n", extra_outbox);
  fmt::print("jobs nobody acknowledged {}\n", strangers);
  fmt::print("attempts without their job {}\n", orphans);
  fmt::print("attempts left in flight on final jobs {}\n", in_flight_left);
  fmt::print("attempts abandoned {}\n", abandoned);
  fmt::print("webhooks delivered {}\n", final - hooks_missing);
  fmt::print("webhooks missing {}\n", hooks_missing);
  fmt::print("webhooks given up {}\n", hooks_dead);
  fmt::print("webhook requests {}\n", hooks_total);
  fmt::print("webhook requests answered 500 {}\n", hooks_refused);
  fmt::print("webhooks delivered twice or more {}\n", duplicate_hooks);
  fmt::print("webhook ids not msg_<job id> or differing {}\n", id_mismatch);
  fmt::print("kafka completed events {}\n", events.size());
  fmt::print("kafka completed events missing {}\n", events_missing);
  fmt::print("kafka completed events duplicated {}\n", duplicate_events);
  fmt::print("longest acknowledgement to final {:.1f} s\n", Seconds(longest));
  if (!longest_id.empty()) fmt::print("longest job {}\n", longest_id);
  // A fault's drain: from its end until every job acknowledged before then was final, and
  // until each was also published and told (a paused notifier shows in the second only).
  for (const auto& f : faults) {
    std::int64_t final_by = f.end_ms, told_by = f.end_ms;
    int before = 0;
    for (const auto& [id, ack] : acks) {
      if (ack.ms >= f.end_ms || !jobs.contains(id)) continue;
      const auto& j = jobs[id];
      ++before;
      final_by = std::max(final_by, j.completed_ms);
      told_by = std::max({told_by, j.completed_ms, j.published_ms, j.webhook_ms});
    }
    fmt::print("drain after {}: final {:.1f} s, published and told {:.1f} s ({} jobs before)\n",
               f.name, Seconds(final_by - f.end_ms), Seconds(told_by - f.end_ms), before);
  }
  fmt::print("waited for the last jobs {:.1f} s\n", waited);
  const bool ok = !acks.empty() && lost == 0 && unfinished == 0 && twice == 0 && no_outbox == 0 &&
                  extra_outbox == 0 && strangers == 0 && orphans == 0 && hooks_missing == 0 &&
                  id_mismatch == 0 && events_missing == 0;
  fmt::print("verdict {}\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
