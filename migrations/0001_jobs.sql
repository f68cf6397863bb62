-- Jobs, one row per model call (attempts), and the completion outbox.
CREATE TABLE jobs (
  id               uuid PRIMARY KEY,
  tenant           text NOT NULL,
  task             text NOT NULL,
  domain           text NOT NULL,
  source           text NOT NULL CHECK (source IN ('http', 'kafka')),
  state            text NOT NULL CHECK (state IN ('queued', 'running', 'reasoning_queued',
                                                  'completed', 'failed', 'cancelled', 'expired')),
  tier             text,
  tier_reasons     text[],
  route            text CHECK (route IN ('inline', 'reasoning')),
  answer           text,
  result           jsonb,
  verification     text NOT NULL DEFAULT 'unverified'
                   CHECK (verification IN ('unverified', 'verified', 'failed', 'unparseable')),
  error            text,
  callback_url     text,
  metadata         jsonb NOT NULL DEFAULT '{}',
  idempotency_key  text,
  deadline_at      timestamptz,
  lease_token      uuid,
  lease_until      timestamptz,
  cost_micros      bigint NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (tenant, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- The reaper scans only unfinished jobs.
CREATE INDEX jobs_unfinished ON jobs (state, updated_at)
  WHERE state IN ('queued', 'running', 'reasoning_queued');

CREATE TABLE attempts (
  id                bigserial PRIMARY KEY,
  job_id            uuid NOT NULL REFERENCES jobs (id),
  seq               int NOT NULL,
  role              text NOT NULL,           -- inline | reasoning
  model             text NOT NULL,
  provider          text NOT NULL,
  provider_id       text,
  tokens_in         bigint NOT NULL DEFAULT 0,
  tokens_out        bigint NOT NULL DEFAULT 0,
  tokens_reasoning  bigint NOT NULL DEFAULT 0,
  tokens_cached     bigint NOT NULL DEFAULT 0,
  cost_micros       bigint NOT NULL DEFAULT 0,
  latency_ms        bigint NOT NULL,
  confidence        double precision,
  verdict           text NOT NULL DEFAULT 'unverified',
  cache_hit         boolean NOT NULL DEFAULT false,
  simulated         boolean NOT NULL DEFAULT false,
  error             text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (job_id, seq)
);

-- One row per completed job, written in the completing transaction; the notifier drains it.
CREATE TABLE outbox (
  id                  bigserial PRIMARY KEY,
  job_id              uuid NOT NULL UNIQUE REFERENCES jobs (id),
  webhook_id          text NOT NULL,
  payload             jsonb NOT NULL,
  callback_url        text,
  kafka_published_at  timestamptz,
  webhook_done_at     timestamptz,        -- delivered, or given up (see webhook_dead)
  webhook_dead        boolean NOT NULL DEFAULT false,
  webhook_attempts    int NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz NOT NULL DEFAULT now(),
  lease_until         timestamptz,
  last_error          text,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at)
  WHERE kafka_published_at IS NULL OR webhook_done_at IS NULL;
