// Job ids are UUIDv7 (time-ordered, so Postgres index inserts stay local). Thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace triage::core {

std::string NewUuidV7();
// A name-based id: the same name always gives the same UUID (SHA-256 based, version 8 bits).
std::string UuidFromName(std::string_view name);
bool IsUuid(std::string_view text);

}  // namespace triage::core
