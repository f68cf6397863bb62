#include "app/plan_run.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "app/answer_estimation.hpp"
#include "app/job_json.hpp"
#include "app/models.hpp"
#include "core/log.hpp"
#include "route/confidence.hpp"
#include "route/record.hpp"
#include "route/verify_checker.hpp"
#include "verify/spec.hpp"

namespace triage::app {
namespace net = boost::asio;
using nlohmann::json;

namespace {

// This part's logger (app/logging.hpp).
spdlog::logger& Log() {
  static const auto log = core::Logger("plan");
  return *log;
}

// The job's reference for the checker: its verify spec, else its domain's defaults.
verify::VerifyRequest ReferenceOf(const store::JobRecord& job) {
  if (job.verify_json) {
    auto spec =
        verify::ParseVerifySpec(json::parse(*job.verify_json, nullptr, false), job.task.domain);
    if (auto* request = std::get_if<verify::VerifyRequest>(&spec)) return *request;
  }
  verify::VerifyRequest r;
  r.domain = job.task.domain;
  return r;
}

route::CallResult ResultOf(const providers::CallOutcome& outcome, const std::string& model) {
  route::CallResult r;
  r.model = outcome.response ? outcome.response->model : model;
  for (const auto& a : outcome.attempts) {
    r.cost += a.cost_micros;
    r.latency += a.latency;
  }
  if (outcome.response) {
    r.text = outcome.response->text;
    r.confidence = outcome.response->confidence;
  } else {
    r.error = outcome.error ? std::string(outcome.error->what()) : "no model answered";
    r.timed_out = outcome.error && outcome.error->Kind() == providers::ErrorKind::kTimeout;
  }
  return r;
}

// Checks `lease` every `check` seconds (renewing it every third of its length) until `done`.
// When it is gone (the job cancelled, finished elsewhere or taken over) sets `lost` and emits
// `abandon`, which cuts off the calls in flight: another holder, or nobody, wants their answers.
struct Renewal {
  bool done = false, lost = false;
  std::optional<net::steady_timer> timer;
  net::cancellation_signal abandon;
};

net::awaitable<void> RenewWhileRunning(std::shared_ptr<Steps> steps, std::string id, Lease* lease,
                                       int seconds, int check, std::shared_ptr<Renewal> renewal) {
  using Clock = std::chrono::steady_clock;
  const auto renew_every = std::chrono::milliseconds(std::max(1000, seconds * 1000 / 3));
  const auto period = std::min<std::chrono::milliseconds>(renew_every, std::chrono::seconds(check));
  auto renewed = Clock::now();
  while (!renewal->done) {
    renewal->timer->expires_after(period);
    co_await renewal->timer->async_wait(net::as_tuple(net::use_awaitable));  // cancelled: done
    if (renewal->done) break;
    try {
      const auto now = Clock::now();
      const bool renew = now - renewed + period / 2 >= renew_every;
      const bool held =
          co_await steps->db.Run([id, token = lease->token, seconds, renew](pqxx::connection& c) {
            return renew ? store::RenewLease(c, id, token, seconds)
                         : store::HoldsLease(c, id, token);
          });
      if (renewal->done) co_return;  // the run is over: `lease` may be gone with its caller
      if (!held) {
        Log().info("job_id={} lease gone (cancelled or taken over): its calls are cut off", id);
        renewal->lost = true;
        renewal->abandon.emit(net::cancellation_type::terminal);
        co_return;
      }
      if (renew) {
        lease->expires = now + std::chrono::seconds(seconds);
        renewed = now;
      }
    } catch (const std::exception& e) {
      Log().warn("job_id={} lease check failed (retried next period): {}", id, e.what());
    }
  }
}

}  // namespace

std::pair<route::Plan, route::Progress> PlanOf(const Steps& steps, const store::JobRecord& job,
                                               core::Tier tier) {
  if (job.strategy_state_json)
    if (auto resumed = route::ProgressFromJson(*job.strategy_state_json)) return *resumed;
  return {steps.config.routing.PlanFor(job.task.domain, tier), {}};
}

namespace {

constexpr const char* kLeaseLost = "the lease was lost (the job was cancelled or taken over)";

// One attempt row per call of `call`, written before any starts: a holder that dies mid-call
// leaves them. Nothing when the lease is gone.
net::awaitable<std::optional<std::vector<std::int64_t>>> StartCalls(Steps& steps,
                                                                    const store::JobRecord& job,
                                                                    const Lease& lease,
                                                                    const route::CallModels& call,
                                                                    const std::string& role) {
  std::vector<store::AttemptRecord> starting(static_cast<std::size_t>(call.count));
  for (int i = 0; i < call.count; ++i) {
    auto& a = starting[static_cast<std::size_t>(i)];
    a.role = role;
    a.model = call.model;
    a.provider = steps.config.models.at(call.model).provider;
    a.verdict = "in_flight";
    a.stage = call.stage;
    a.sample = call.first_sample + i;
  }
  co_return co_await steps.AsHolder(
      job.id, lease, [id = job.id, token = lease.token, starting](pqxx::connection& c) {
        return store::StartAttempts(c, id, token, starting);
      });
}

// The calls, all at once (the model layer's limits queue what must wait). A signal on `abandon`
// cuts them all off; each then returns with a cancelled attempt.
net::awaitable<std::vector<providers::CallOutcome>> MakeCalls(Steps& steps,
                                                              const store::JobRecord& job,
                                                              const route::CallModels& call,
                                                              net::cancellation_slot abandon) {
  const auto& config = steps.config;
  const auto timeout = config.models.at(call.model).timeout_seconds;
  const auto temperature =
      call.sampled ? std::optional(config.routing.sample_temperature) : std::nullopt;
  // The calls run on the job's own executor (its strand), not on the io_context at large:
  // `abandon` reaches them through their cancellation slots, which are not thread-safe.
  const auto executor = co_await net::this_coro::executor;
  using Op = decltype(net::co_spawn(
      executor, std::declval<net::awaitable<providers::CallOutcome>>(), net::deferred));
  std::vector<Op> ops;
  for (int i = 0; i < call.count; ++i)
    ops.push_back(net::co_spawn(
        executor,
        steps.models->Call(call.model, steps.RequestFor(job, call.first_sample + i),
                           Steps::CallDeadline(job, timeout), job.task.domain, temperature),
        net::deferred));
  auto [order, errors, outcomes] =
      co_await net::experimental::make_parallel_group(std::move(ops))
          .async_wait(net::experimental::wait_for_all(),
                      net::bind_cancellation_slot(abandon, net::use_awaitable));
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  co_return outcomes;
}

// Completes the started rows with what the calls became (their verdicts from the samples).
net::awaitable<void> FinishCalls(Steps& steps, const store::JobRecord& job, const Lease& lease,
                                 const std::vector<providers::CallOutcome>& outcomes,
                                 const std::vector<std::int64_t>& started,
                                 const route::Sample* samples, const std::string& role,
                                 PlanRun& run) {
  std::vector<store::FinishedCall> finished;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    auto records = AttemptRecords(role, outcomes[i]);
    const auto& sample = samples[i];
    for (auto& r : records) {
      r.stage = sample.stage;
      r.sample = sample.index;
      run.cost += r.cost_micros;
      ++run.attempts;
    }
    if (outcomes[i].response) {
      records.back().verdict = std::string(verify::ToString(sample.verdict.outcome));
      records.back().confidence = sample.confidence;
      records.back().answer = sample.answer;
      records.back().response = outcomes[i].response->text;
    }
    finished.push_back({started.at(i), std::move(records)});
  }
  co_await steps.RetryWhileUnavailable(
      job.id, lease.expires, [id = job.id, finished = std::move(finished)](pqxx::connection& c) {
        store::FinishAttempts(c, id, finished);
      });
}

}  // namespace

net::awaitable<PlanRun> RunPlan(std::shared_ptr<Steps> steps, store::JobRecord job, Lease& lease,
                                route::Executor executor, route::Plan plan,
                                route::Progress progress, std::string role) {
  const auto& config = steps->config;
  const route::VerifyChecker checker(ReferenceOf(job));
  const auto* estimation = steps->estimation.get();
  const auto task = estimation ? estimation->TaskOf(job) : route::RouterTask{};
  std::optional<route::LearnedAnswerEstimator> estimator;
  if (estimation) estimator.emplace(*estimation->router, task, &estimation->ids);
  const route::Engine engine(plan, steps->ladder->Current(),
                             config.routing.ThresholdsFor(job.task.domain), checker,
                             estimator ? &*estimator : nullptr);
  const route::Budget budget{job.deadline_unix_ms, job.max_cost_micros};
  const int lease_seconds = executor == route::Executor::kRouter ? config.InlineLeaseSeconds()
                                                                 : config.ReasoningLeaseSeconds();
  auto renewal = std::make_shared<Renewal>();
  renewal->timer.emplace(co_await net::this_coro::executor);
  net::co_spawn(
      co_await net::this_coro::executor,
      RenewWhileRunning(steps, job.id, &lease, lease_seconds, config.lease_check_seconds, renewal),
      net::detached);
  struct StopRenewal {
    std::shared_ptr<Renewal> r;
    ~StopRenewal() {
      r->done = true;
      r->timer->cancel();
    }
  } stop{renewal};

  PlanRun run{plan, std::move(progress), route::Finish{}, {}};
  for (int steps_taken = 0; steps_taken < 1000; ++steps_taken) {
    if (renewal->lost) {  // nothing this run finds can be stored now
      run.end = engine.Degrade(run.progress, kLeaseLost);
      co_return run;
    }
    auto action = engine.Next(run.progress, executor, budget, NowMs());
    if (auto* handoff = std::get_if<route::HandOff>(&action)) {
      run.end = *handoff;
      co_return run;
    }
    if (auto* finish = std::get_if<route::Finish>(&action)) {
      run.end = *finish;
      co_return run;
    }
    const auto call = std::get<route::CallModels>(action);
    const auto started = co_await StartCalls(*steps, job, lease, call, role);
    // A lease lost while the rows were written: whoever ended it marked them abandoned.
    if (!started || renewal->lost) {
      run.end = engine.Degrade(run.progress, kLeaseLost);
      co_return run;
    }
    const auto outcomes = co_await MakeCalls(*steps, job, call, renewal->abandon.slot());
    for (const auto& outcome : outcomes)
      if (outcome.error && !renewal->lost)  // a lost lease cut it off: said once above
        Log().warn("job_id={} call to {} failed after {} attempt(s): {}", job.id, outcome.model,
                   outcome.attempts.size(), outcome.error->what());
    std::vector<route::CallResult> results;
    for (const auto& outcome : outcomes) {
      results.push_back(ResultOf(outcome, call.model));
      // A real answer measures its model (a cache hit would flatter it, a failure is no answer).
      if (outcome.response && !outcome.attempts.back().cache_hit)
        steps->ladder->Record(call.model, results.back().cost, results.back().latency);
    }
    // Checking may run code in the sandbox for seconds: on the verify pool, then back.
    const auto before = run.progress.samples.size();
    const auto io = co_await net::this_coro::executor;
    co_await net::post(steps->verify_pool, net::use_awaitable);
    engine.Observe(run.progress, call, std::move(results));
    co_await net::post(io, net::use_awaitable);
    co_await FinishCalls(*steps, job, lease, outcomes, *started, &run.progress.samples[before],
                         role, run);
  }
  run.end = engine.Degrade(run.progress, "the plan did not end within 1000 steps");
  co_return run;
}

store::Completion CompletionOf(const PlanRun& run) {
  const auto& finish = std::get<route::Finish>(run.end);
  store::Completion c;
  c.state = finish.state;
  c.verification = finish.verification;
  c.degraded = finish.degraded;
  c.recorded_attempts = run.attempts;
  c.recorded_cost = run.cost;
  c.decision_json = route::DecisionJson(run.plan, run.progress, finish)
                        .dump(-1, ' ', false, json::error_handler_t::replace);
  if (finish.sample) {
    const auto& s = run.progress.samples.at(static_cast<std::size_t>(*finish.sample));
    // A response with no readable answer still answers: its text, without the annotation.
    c.answer = !s.answer.empty() ? s.answer : route::ParseSelfReport(s.call.text.value_or("")).text;
    c.result_json = ResultJson(s.call.text.value_or(""), s.call.model, s.rung);
  } else {
    c.error = finish.reason;
  }
  return c;
}

}  // namespace triage::app
