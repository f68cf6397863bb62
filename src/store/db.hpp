// Postgres access for coroutines: blocking libpqxx calls run on the Db's own threads, one
// connection each, and the caller's coroutine resumes on its own executor.
// Thread-safe. Broken connections are reopened and the function retried (at most
// kMaxAttempts), as are serialization failures; an in-doubt commit is never retried.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <type_traits>
#include <vector>

namespace triage::store {

// True when `error` means the database could not be reached or dropped the session (a broken
// connection, a commit whose outcome is unknown, a server shutting down or starting up): the
// work is worth retrying later, and callers answer "unavailable" rather than "internal error".
bool IsUnavailable(const std::exception& error);

struct DbOptions {
  std::string dsn;    // libpq connection string; `postgres.dsn`, env TRIAGE_PG_DSN
  int pool_size = 8;  // connections = threads; `postgres.pool_size`
  // The server ends a session of this pool left idle inside a transaction this long (a process
  // stopped or starved mid-transaction), releasing its row locks; 0 leaves the server's setting.
  // `postgres.idle_in_transaction_timeout_ms`.
  int idle_in_transaction_timeout_ms = 30000;
};

class Db {
 public:
  static constexpr int kMaxAttempts = 3;
  explicit Db(DbOptions options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs fn(pqxx::connection&) on a Db thread. fn owns its transaction(s); it may run again
  // after a broken connection, so it must not have side effects outside the database.
  template <class F>
  auto Run(F fn) -> boost::asio::awaitable<std::invoke_result_t<F&, pqxx::connection&>> {
    // A plain coroutine function, not a lambda: GCC 12 destroys lambda-coroutine captures twice.
    co_return co_await boost::asio::co_spawn(pool_.get_executor(), Invoke(this, std::move(fn)),
                                             boost::asio::use_awaitable);
  }

  // The same, on the calling thread (CLI commands, tests, non-coroutine code).
  template <class F>
  auto RunBlocking(F&& fn) -> std::invoke_result_t<F&, pqxx::connection&> {
    for (int attempt = 1;; ++attempt) {
      auto conn = Acquire();
      try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, pqxx::connection&>>) {
          fn(*conn);
          Release(std::move(conn));
          return;
        } else {
          auto result = fn(*conn);
          Release(std::move(conn));
          return result;
        }
      } catch (const pqxx::in_doubt_error&) {
        throw;
      } catch (const pqxx::broken_connection&) {
        if (attempt >= kMaxAttempts) throw;  // conn is dropped, a new one is opened next time
      } catch (const pqxx::serialization_failure&) {
        Release(std::move(conn));
        if (attempt >= kMaxAttempts) throw;
      } catch (...) {
        Release(std::move(conn));
        throw;
      }
    }
  }

 private:
  template <class F>
  static auto Invoke(Db* db, F fn)
      -> boost::asio::awaitable<std::invoke_result_t<F&, pqxx::connection&>> {
    co_return db->RunBlocking(fn);
  }
  std::unique_ptr<pqxx::connection> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn);

  DbOptions options_;
  boost::asio::thread_pool pool_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

}  // namespace triage::store
