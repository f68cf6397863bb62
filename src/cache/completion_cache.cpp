#include "cache/completion_cache.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "cache/key.hpp"
#include "store/db.hpp"

namespace triage::cache {
namespace net = boost::asio;
using nlohmann::json;
using providers::CallOutcome;
using providers::ModelResponse;

namespace {

std::int64_t UnixMs(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string ResponseToJson(const ModelResponse& r) {
  json j = {{"text", r.text},
            {"finish_reason", r.finish_reason},
            {"usage",
             {{"input", r.usage.input},
              {"output", r.usage.output},
              {"reasoning", r.usage.reasoning},
              {"cached_read", r.usage.cached_read},
              {"cached_write", r.usage.cached_write}}},
            {"model", r.model},
            {"provider_id", r.provider_id},
            {"simulated", r.simulated}};
  j["confidence"] = r.confidence ? json(*r.confidence) : json(nullptr);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<ModelResponse> ResponseFromJson(const std::string& text) {
  const auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    ModelResponse r;
    r.text = j.at("text").get<std::string>();
    r.finish_reason = j.value("finish_reason", "");
    const auto& u = j.at("usage");
    r.usage.input = u.value("input", 0);
    r.usage.output = u.value("output", 0);
    r.usage.reasoning = u.value("reasoning", 0);
    r.usage.cached_read = u.value("cached_read", 0);
    r.usage.cached_write = u.value("cached_write", 0);
    r.model = j.value("model", "");
    r.provider_id = j.value("provider_id", "");
    r.simulated = j.value("simulated", false);
    if (j.contains("confidence") && j["confidence"].is_number())
      r.confidence = j["confidence"].get<double>();
    return r;
  } catch (const std::exception&) {
    return std::nullopt;  // an unreadable entry is a miss
  }
}

bool Cacheable(const ModelResponse& r) {
  return !r.text.empty() && r.finish_reason != "length" && r.finish_reason != "max_tokens";
}

net::awaitable<std::optional<std::string>> PgCompletionStore::Load(std::string key,
                                                                   SystemTime now) {
  co_return co_await db_.Run(
      [key, now_ms = UnixMs(now)](pqxx::connection& c) -> std::optional<std::string> {
        pqxx::read_transaction tx(c);
        const auto rows = tx.exec_params(
            "SELECT response::text FROM completion_cache WHERE key = $1 "
            "AND (expires_at IS NULL OR expires_at > to_timestamp($2::double precision / 1000))",
            key, now_ms);
        if (rows.empty()) return std::nullopt;
        return rows[0][0].as<std::string>();
      });
}

net::awaitable<void> PgCompletionStore::Save(std::string key, std::string model,
                                             std::string response_json,
                                             std::optional<SystemTime> expires) {
  std::optional<std::int64_t> expires_ms;
  if (expires) expires_ms = UnixMs(*expires);
  co_await db_.Run([key, model, response_json, expires_ms](pqxx::connection& c) {
    pqxx::work tx(c);
    // Plain parameters only (no std::optional through libpqxx 6.4's parameter conversion).
    const std::string sql =
        std::string("INSERT INTO completion_cache (key, model, response, expires_at) VALUES ($1, "
                    "$2, $3::jsonb, ") +
        (expires_ms ? "to_timestamp($4::double precision / 1000)" : "NULL") +
        ") ON CONFLICT (key) DO UPDATE SET model = excluded.model, response = excluded.response, "
        "expires_at = excluded.expires_at, created_at = now()";
    if (expires_ms) tx.exec_params(sql, key, model, response_json, *expires_ms);
    else tx.exec_params(sql, key, model, response_json);
    tx.commit();
  });
}

struct CompletionCache::Flight {
  std::mutex mutex;
  bool done = false;
  std::optional<ModelResponse> response;
  std::vector<std::shared_ptr<net::steady_timer>> waiters;

  void Finish(std::optional<ModelResponse> r) {
    std::lock_guard lock(mutex);
    done = true;
    response = std::move(r);
    for (auto& t : waiters) t->cancel();
  }
  // The leader's answer (nothing when it failed), or nothing at the deadline; `timed_out` says.
  net::awaitable<std::optional<ModelResponse>> Wait(providers::Deadline deadline, bool& timed_out) {
    auto timer = std::make_shared<net::steady_timer>(co_await net::this_coro::executor, deadline);
    // The wait starts under the lock Finish() cancels under: a timer is never touched by two
    // threads at once, and a Finish() between registering and waiting cannot be missed.
    auto wait_token = net::as_tuple(net::use_awaitable);
  co_await net::async_initiate<decltype(wait_token),
                                 void(boost::system::error_code)>(
        [this, timer](auto handler) {
          std::lock_guard lock(mutex);
          if (done) {
            auto executor = net::get_associated_executor(handler, timer->get_executor());
            net::post(executor, [h = std::move(handler)]() mutable { h(boost::system::error_code{}); });
            return;
          }
          waiters.push_back(timer);
          timer->async_wait(std::move(handler));
        },
        wait_token);
    std::lock_guard lock(mutex);
    timed_out = !done;
    co_return done ? response : std::nullopt;
  }
};

CompletionCache::CompletionCache(CacheOptions options, std::shared_ptr<CompletionStore> store,
                                 WallClock now, LookupObserver on_lookup)
    : options_(std::move(options)),
      store_(std::move(store)),
      now_(std::move(now)),
      on_lookup_(std::move(on_lookup)),
      lru_(options_.memory_bytes) {}

void CompletionCache::Count(const std::string& domain, bool hit) {
  ++(hit ? hits_ : misses_);
  if (on_lookup_) on_lookup_(domain, hit);
}

std::optional<std::chrono::seconds> CompletionCache::TtlFor(const std::string& domain) const {
  if (auto it = options_.domain_ttl.find(domain); it != options_.domain_ttl.end())
    return it->second;
  return options_.default_ttl;
}

net::awaitable<std::optional<ModelResponse>> CompletionCache::Lookup(const std::string& key) {
  const auto now = now_();
  if (auto hit = lru_.Get(key, now)) co_return ResponseFromJson(*hit);
  if (!store_) co_return std::nullopt;
  std::optional<std::string> stored;
  try {
    stored = co_await store_->Load(key, now);
  } catch (const std::exception&) {
    stored.reset();  // the durable layer being down is a miss, not a failed call
  }
  if (!stored) co_return std::nullopt;
  auto response = ResponseFromJson(*stored);
  // Promote with a short memory TTL: the table holds the real expiry.
  if (response) lru_.Put(key, *stored, now + std::chrono::minutes(5));
  co_return response;
}

namespace {

CallOutcome HitOutcome(const providers::ModelChain& chain, ModelResponse response,
                       std::chrono::milliseconds latency) {
  CallOutcome out;
  providers::AttemptOutcome a;
  a.model = response.model;
  a.provider = chain.Primary().Provider();
  for (const auto& g : chain.Models())
    if (g->Model().Name() == response.model) a.provider = g->Model().Provider();
  a.cache_hit = true;
  a.cost_micros = 0;
  a.latency = latency;
  response.latency = latency;
  a.response = response;
  out.model = response.model;
  out.attempts.push_back(std::move(a));
  out.response = std::move(response);
  return out;
}

std::string ChainIdentity(const providers::ModelChain& chain) {
  std::string id;
  for (const auto& g : chain.Models()) id += (id.empty() ? "" : ">") + g->Model().Identity();
  return id;
}

}  // namespace

net::awaitable<CallOutcome> CompletionCache::Call(providers::ModelChain& chain,
                                                  providers::ModelRequest request,
                                                  providers::Deadline deadline,
                                                  std::string domain) {
  const auto ttl = TtlFor(domain);
  if (!options_.enabled || (ttl && ttl->count() <= 0))
    co_return co_await chain.Call(std::move(request), deadline);
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started);
  };
  const auto key = CacheKey(ChainIdentity(chain), chain.Primary().Provider(), request);
  if (auto hit = co_await Lookup(key)) {
    Count(domain, true);
    co_return HitOutcome(chain, std::move(*hit), elapsed());
  }
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    std::lock_guard lock(mutex_);
    auto& slot = flights_[key];
    if (!slot) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    bool timed_out = false;
    auto shared = co_await flight->Wait(deadline, timed_out);
    if (shared) {
      Count(domain, true);
      co_return HitOutcome(chain, std::move(*shared), elapsed());
    }
    if (timed_out) {
      CallOutcome out;
      providers::AttemptOutcome a;
      a.model = chain.Primary().Name();
      a.provider = chain.Primary().Provider();
      a.error = a.model + ": deadline passed waiting for an identical call in flight";
      a.error_kind = providers::ErrorKind::kTimeout;
      a.latency = elapsed();
      out.model = a.model;
      out.attempts.push_back(std::move(a));
      out.error =
          providers::ModelError(out.attempts.back().error, true, providers::ErrorKind::kTimeout);
      co_return out;
    }
    Count(domain, false);
    co_return co_await chain.Call(std::move(request), deadline);  // the leader failed: our own try
  }
  CallOutcome out;
  std::optional<ModelResponse> shared;
  try {
    // A leader that finished between our lookup and our registration left its answer here.
    if (auto late_hit = lru_.Get(key, now_())) {
      if (auto r = ResponseFromJson(*late_hit)) out = HitOutcome(chain, std::move(*r), elapsed());
    }
    Count(domain, out.response.has_value());
    if (!out.response) out = co_await chain.Call(request, deadline);
    if (out.response && !out.attempts.back().cache_hit && Cacheable(*out.response)) {
      const auto now = now_();
      std::optional<SystemTime> expires;
      if (ttl) expires = now + *ttl;
      auto text = ResponseToJson(*out.response);
      lru_.Put(key, text, expires);
      if (store_) {
        try {
          co_await store_->Save(key, out.response->model, std::move(text), expires);
        } catch (const std::exception&) {
          // Not durable this time; the answer itself is fine.
        }
      }
    }
    if (out.response && Cacheable(*out.response)) shared = out.response;
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      flights_.erase(key);
    }
    flight->Finish(std::nullopt);
    throw;
  }
  {
    std::lock_guard lock(mutex_);
    flights_.erase(key);
  }
  flight->Finish(std::move(shared));
  co_return out;
}

}  // namespace triage::cache
