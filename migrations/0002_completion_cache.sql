-- The completion cache's durable layer: one row per SHA-256 request key (cache/key.hpp).
-- expires_at NULL means forever (deterministic domains); expired rows are misses and are
-- deleted by `DELETE FROM completion_cache WHERE expires_at < now()` at leisure.
CREATE TABLE completion_cache (
  key         text PRIMARY KEY,
  model       text NOT NULL,
  response    jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz
);
CREATE INDEX completion_cache_expiry ON completion_cache (expires_at) WHERE expires_at IS NOT NULL;
