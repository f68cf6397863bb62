#include "store/db.hpp"

namespace triage::store {

bool IsUnavailable(const std::exception& error) {
  if (dynamic_cast<const pqxx::broken_connection*>(&error) ||
      dynamic_cast<const pqxx::in_doubt_error*>(&error))
    return true;
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  if (!sql) return false;
  // SQLSTATE class 08 (connection exception); 57P01..57P03: admin shutdown, crash shutdown,
  // cannot connect now (the server is starting).
  const std::string state = sql->sqlstate();
  return state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03";
}

Db::Db(DbOptions options) : options_(std::move(options)), pool_(options_.pool_size) {}

Db::~Db() { pool_.join(); }

std::unique_ptr<pqxx::connection> Db::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->is_open()) return conn;
    }
  }
  auto conn = std::make_unique<pqxx::connection>(options_.dsn);
  // Kept by libpqxx across its reconnects. Without it, a process stopped between a claim's
  // UPDATE and its COMMIT hides the claimed rows from every other claimer (SKIP LOCKED) for as
  // long as it stays stopped: their lease never started, so it can never run out.
  if (options_.idle_in_transaction_timeout_ms > 0)
    conn->set_variable("idle_in_transaction_session_timeout",
                       std::to_string(options_.idle_in_transaction_timeout_ms));
  return conn;
}

void Db::Release(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mutex_);
  if (static_cast<int>(idle_.size()) < options_.pool_size) idle_.push_back(std::move(conn));
}

}  // namespace triage::store
