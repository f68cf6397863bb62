// Schema migrations: migrations/NNNN_name.sql, embedded in the binary at build time.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace pqxx { class connection_base; }

namespace triage::store {

struct Migration {
  std::string_view name;  // "0001_jobs": the number orders them
  std::string_view sql;
};

const std::vector<Migration>& EmbeddedMigrations();

// Applies, in order, each migration not yet recorded in schema_migrations, each in its own
// transaction together with its record. Idempotent; concurrent runners serialise on an
// advisory lock. Returns the names applied now. Throws pqxx errors on failure.
std::vector<std::string> Migrate(pqxx::connection_base& conn,
                                 const std::vector<Migration>& migrations = EmbeddedMigrations());

}  // namespace triage::store
