#include "store/db.hpp"

namespace triage::store {

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
