-- What clients learn about a job's answer after it finished (POST /v1/jobs/{id}/feedback), read
-- by `triage tune`. One row per job: either the answer's correctness or a gold answer, which is
-- graded against every attempt's answer by the verifier when tuning (never at submission).
CREATE TABLE feedback (
  job_id      uuid PRIMARY KEY REFERENCES jobs (id),
  correct     boolean,
  gold        text CHECK (octet_length(gold) BETWEEN 1 AND 8192),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((correct IS NULL) <> (gold IS NULL))
);
-- Each answered call's checked answer (the confidence annotation removed), so a gold or a
-- judged answer can grade every attempt, not only the one that answered. Bounded: an answer
-- longer than 8 KiB is not kept (answer NULL, answer_too_long true), and tuning treats that
-- attempt's correctness as unknown. The full text of the answering call stays in jobs.result.
ALTER TABLE attempts
  ADD COLUMN answer           text,
  ADD COLUMN answer_too_long  boolean NOT NULL DEFAULT false;
