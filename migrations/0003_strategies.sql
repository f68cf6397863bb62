-- The routing engine's inputs and record per job.
ALTER TABLE jobs
  ADD COLUMN verify_spec     jsonb,    -- the submission's `verify`: how the answer is checked
  ADD COLUMN max_cost_micros bigint,   -- the submission's max_cost_usd
  ADD COLUMN strategy_state  jsonb,    -- the engine's progress, kept while the job waits for or
                                       -- runs on the reasoning queue (a worker resumes from it)
  ADD COLUMN decision        jsonb,    -- the decision trail, written at completion
  ADD COLUMN degraded        boolean NOT NULL DEFAULT false;  -- a deadline or cap cut it short
ALTER TABLE attempts
  ADD COLUMN stage  int,               -- the plan stage (0-based) the call belonged to
  ADD COLUMN sample int;               -- the job's n-th sample
