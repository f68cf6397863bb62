#include "app/reaper.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "app/job_json.hpp"
#include "core/log.hpp"

namespace triage::app {
namespace net = boost::asio;
namespace {
// This part's logger (app/logging.hpp).
spdlog::logger& Log() {
  static const auto log = core::Logger("reaper");
  return *log;
}
}  // namespace

Reaper::Reaper(std::shared_ptr<Steps> steps) : steps_(std::move(steps)) {}

void Reaper::Start() { net::co_spawn(steps_->io, Loop(), net::detached); }

net::awaitable<void> Reaper::Loop() {
  auto self = shared_from_this();
  auto& s = *steps_;
  while (s.running) {
    co_await Sleep(std::chrono::seconds(s.config.reaper_interval_seconds));
    try {
      const auto stuck =
          co_await s.db.Run([grace = s.config.reaper_grace_seconds](pqxx::connection& c) {
            return store::ClaimStuckJobs(c, grace, 500);
          });
      for (const auto& stuck_job : stuck) {
        Log().info("job_id={} re-sent to {} by the reaper", stuck_job.id, stuck_job.topic_role);
        if (stuck_job.topic_role == "reasoning") {
          co_await s.SendToReasoning(stuck_job.id);
          continue;
        }
        auto job = co_await s.db.Run(
            [id = stuck_job.id](pqxx::connection& c) { return store::GetJob(c, id, false); });
        if (job) co_await s.MustProduce(s.topics.jobs, job->id, EnvelopeFor(*job));
      }
    } catch (const std::exception& e) {
      Log().warn("reaper pass failed: {}", e.what());
    }
  }
}

}  // namespace triage::app
