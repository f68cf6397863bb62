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
  return std::make_unique<pqxx::connection>(options_.dsn);
}

void Db::Release(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mutex_);
  if (static_cast<int>(idle_.size()) < options_.pool_size) idle_.push_back(std::move(conn));
}

}  // namespace triage::store
