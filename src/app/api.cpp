#include "app/api.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>

#include "app/dashboard.hpp"
#include "app/job_json.hpp"
#include "app/job_metrics.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/utf8.hpp"

namespace triage::app {
namespace net = boost::asio;
namespace {
// This part's logger (app/logging.hpp).
spdlog::logger& Log() {
  static const auto log = core::Logger("api");
  return *log;
}
}  // namespace

// What a client is asked to wait before retrying while the database is unreachable.
constexpr int kRetryAfterSeconds = 2;

Api::Api(std::shared_ptr<Steps> steps, std::shared_ptr<Admin> admin)
    : steps_(std::move(steps)), admin_(std::move(admin)) {}

void Api::Start() {
  server_ = std::make_unique<http::Server>(steps_->io, steps_->config.api,
                                           http::WeakHandler(weak_from_this(), &Api::HandleHttp));
  server_->Start();
}

void Api::Stop() {
  if (server_) server_->Stop();
}

unsigned short Api::Port() const { return server_ ? server_->Port() : 0; }

std::size_t Api::InFlight() const { return server_ ? server_->InFlight() : 0; }

// Every request: while the database is unreachable the answer is 503 with Retry-After (as
// /readyz reports), never a 500, so clients and load balancers know to come back.
net::awaitable<http::Response> Api::HandleHttp(http::Request req) {
  std::string unavailable;
  try {
    co_return co_await Serve(req);
  } catch (const std::exception& e) {
    if (!store::IsUnavailable(e)) throw;
    unavailable = e.what();
  }
  Log().warn("{} {}: database unavailable: {}", std::string(req.method_string()),
             std::string(req.target()), unavailable);
  auto res =
      http::ErrorResponse(req, http::Status::service_unavailable, "unavailable",
                          "the database is unavailable; retry later (an idempotency_key makes a "
                          "retried submission safe)");
  res.set(boost::beast::http::field::retry_after, std::to_string(kRetryAfterSeconds));
  co_return res;
}

net::awaitable<http::Response> Api::Serve(const http::Request& req) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  const auto method = req.method();
  using boost::beast::http::verb;
  if (path == "/" && method == verb::get) co_return DashboardResponse(req);
  if (Admin::Handles(path)) co_return co_await admin_->Serve(req);
  std::string tenant = "default";
  if (auto it = req.find("x-tenant"); it != req.end()) {
    tenant = std::string(it->value());
    if (tenant.empty() || tenant.size() > 128 || !core::IsValidUtf8(tenant))
      co_return http::ErrorResponse(req, http::Status::bad_request, "invalid_header",
                                    "X-Tenant must be 1..128 bytes of UTF-8");
  }
  if (path == "/v1/jobs") {
    if (method != verb::post)
      co_return http::ErrorResponse(req, http::Status::method_not_allowed, "method_not_allowed",
                                    "use POST");
    co_return co_await Submit(req, tenant);
  }
  constexpr std::string_view kJobPrefix = "/v1/jobs/";
  constexpr std::string_view kFeedbackSuffix = "/feedback";
  if (path.starts_with(kJobPrefix) && path.ends_with(kFeedbackSuffix) &&
      path.size() > kJobPrefix.size() + kFeedbackSuffix.size()) {
    if (method != verb::post)
      co_return http::ErrorResponse(req, http::Status::method_not_allowed, "method_not_allowed",
                                    "use POST");
    const auto id =
        path.substr(kJobPrefix.size(), path.size() - kJobPrefix.size() - kFeedbackSuffix.size());
    if (!core::IsUuid(id))
      co_return http::ErrorResponse(req, http::Status::bad_request, "invalid_id",
                                    "job id must be a UUID");
    co_return co_await PostFeedback(req, id, tenant);
  }
  if (path.starts_with(kJobPrefix)) {
    if (method != verb::get && method != verb::delete_)
      co_return http::ErrorResponse(req, http::Status::method_not_allowed, "method_not_allowed",
                                    "use GET or DELETE");
    const auto id = path.substr(kJobPrefix.size());
    if (!core::IsUuid(id))
      co_return http::ErrorResponse(req, http::Status::bad_request, "invalid_id",
                                    "job id must be a UUID");
    if (method == verb::delete_) co_return co_await Cancel(req, id, tenant);
    auto job =
        co_await steps_->db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, true); });
    if (!job || job->tenant != tenant)
      co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such job");
    co_return http::JsonResponse(req, http::Status::ok, JobViewJson(*job));
  }
  co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such endpoint");
}

// DELETE /v1/jobs/{id}: a job not yet final is cancelled (its job.cancelled event goes out like a
// completion); a final one answers 409 with its state.
net::awaitable<http::Response> Api::Cancel(const http::Request& req, const std::string& id,
                                           const std::string& tenant) {
  auto job =
      co_await steps_->db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, true); });
  if (!job || job->tenant != tenant)
    co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such job");
  const auto event = CancellationEvent(*job, NowMs());
  const auto outcome = co_await steps_->db.Run(
      [id, tenant, event](pqxx::connection& c) { return store::CancelJob(c, id, tenant, event); });
  if (outcome == store::CancelOutcome::kNotFound)
    co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such job");
  if (outcome == store::CancelOutcome::kAlreadyFinal) {
    const auto now =
        co_await steps_->db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, false); });
    co_return http::ErrorResponse(
        req, http::Status::conflict, "conflict",
        "the job is already " + std::string(core::ToString(now ? now->state : job->state)));
  }
  co_return http::JsonResponse(req, http::Status::ok, CancelledJson(id));
}

// POST /v1/jobs/{id}/feedback: one feedback per final job, stored as given (a gold is graded at
// tune time). The same feedback again answers 200 with the stored record; a different one 409
// with the stored one, which stays.
net::awaitable<http::Response> Api::PostFeedback(const http::Request& req, const std::string& id,
                                                 const std::string& tenant) {
  if (auto it = req.find(boost::beast::http::field::content_type);
      it != req.end() && !it->value().starts_with("application/json"))
    co_return http::ErrorResponse(req, http::Status::unsupported_media_type,
                                  "unsupported_media_type", "send application/json");
  auto parsed = ParseFeedback(req.body());
  if (const auto* e = std::get_if<intake::Error>(&parsed))
    co_return http::JsonResponse(
        req, e->code == "too_large" ? http::Status::payload_too_large : http::Status::bad_request,
        ErrorJson(*e));
  const auto feedback = std::get<store::Feedback>(parsed);
  const auto result = co_await steps_->db.Run([id, tenant, feedback](pqxx::connection& c) {
    return store::AddFeedback(c, id, tenant, feedback);
  });
  using Outcome = store::FeedbackOutcome;
  switch (result.outcome) {
    case Outcome::kNotFound:  // another tenant's job too, as GET answers
      co_return http::ErrorResponse(req, http::Status::not_found, "not_found", "no such job");
    case Outcome::kNotFinal:
      co_return http::ErrorResponse(
          req, http::Status::conflict, "not_final",
          "the job is " + std::string(core::ToString(*result.state)) +
              "; feedback is taken once it is completed, failed, expired or cancelled");
    case Outcome::kNoAnswer:
      co_return http::ErrorResponse(
          req, http::Status::conflict, "no_answer",
          "the job ended without an answer to judge; send {\"gold\": ...} instead");
    case Outcome::kConflict:
      co_return http::JsonResponse(req, http::Status::conflict,
                                   FeedbackConflictJson(id, *result.stored));
    case Outcome::kStored:
    case Outcome::kSame:
      break;
  }
  if (result.outcome == Outcome::kStored) {
    const auto job =
        co_await steps_->db.Run([id](pqxx::connection& c) { return store::GetJob(c, id, false); });
    if (job) steps_->metrics->FeedbackReceived(JudgedOf(*job, feedback));
  }
  co_return http::JsonResponse(
      req, result.outcome == Outcome::kStored ? http::Status::created : http::Status::ok,
      FeedbackJson(id, *result.stored));
}

// Intake over HTTP: parsed strictly, the row stored, then the envelope produced; the 202 means
// the job is durable.
net::awaitable<http::Response> Api::Submit(const http::Request& req, const std::string& tenant) {
  if (auto it = req.find(boost::beast::http::field::content_type);
      it != req.end() && !it->value().starts_with("application/json"))
    co_return http::ErrorResponse(req, http::Status::unsupported_media_type,
                                  "unsupported_media_type", "send application/json");
  auto parsed =
      intake::ParseSubmission(req.body(), steps_->config.limits, NowMs(), intake::Source::kHttp);
  if (const auto* e = std::get_if<intake::Error>(&parsed)) {
    const auto status = e->code == "too_large"        ? http::Status::payload_too_large
                        : e->code == "unknown_domain" ? http::Status::unprocessable_entity
                                                      : http::Status::bad_request;
    co_return http::JsonResponse(req, status, ErrorJson(*e));
  }
  const auto& s = std::get<intake::Submission>(parsed);
  auto job = ToNewJob(s, core::NewUuidV7(), "http");
  job.tenant = tenant;
  const auto inserted =
      co_await steps_->db.Run([job](pqxx::connection& c) { return store::InsertJob(c, job); });
  if (inserted.inserted) {
    steps_->metrics->JobAccepted(job.task.domain, "http");
    // The row is durable: if this message is lost, the reaper sends the job again.
    steps_->producer.Produce(
        steps_->topics.jobs, job.id, EnvelopeFor(job), [id = job.id](std::string e) {
          if (!e.empty())
            Log().warn("job_id={} not yet on Kafka ({}); the reaper will resend it", id, e);
        });
  }
  auto res = http::JsonResponse(req, inserted.inserted ? http::Status::accepted : http::Status::ok,
                                AcceptedJson(inserted));
  res.set(boost::beast::http::field::location, "/v1/jobs/" + inserted.id);
  co_return res;
}

}  // namespace triage::app
