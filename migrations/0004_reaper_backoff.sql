-- How many times the reaper has sent a waiting job again since it last moved: each wait before
-- the next is twice the last, so a long backlog is not re-sent every grace period.
ALTER TABLE jobs ADD COLUMN resends int NOT NULL DEFAULT 0;
