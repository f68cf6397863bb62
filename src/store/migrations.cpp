#include "store/migrations.hpp"

#include <pqxx/pqxx>

namespace triage::store {

std::vector<std::string> Migrate(pqxx::connection_base& conn,
                                 const std::vector<Migration>& migrations) {
  {
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version int PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  std::vector<std::string> applied;
  for (const auto& m : migrations) {
    const int version = std::stoi(std::string(m.name.substr(0, m.name.find('_'))));
    pqxx::work tx(conn);
    // Held until commit: a second runner waits here, then sees the row and skips.
    tx.exec("SELECT pg_advisory_xact_lock(7265746961)");
    if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", version).empty())
      continue;
    tx.exec(std::string(m.sql));
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version,
                   std::string(m.name));
    tx.commit();
    applied.emplace_back(m.name);
  }
  return applied;
}

}  // namespace triage::store
