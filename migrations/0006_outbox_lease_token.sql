-- Each claim of an outbox row draws a token that the holder's reports must name, so a notifier
-- that stalled past its lease cannot overwrite what the row's next holder did.
ALTER TABLE outbox ADD COLUMN lease_token uuid;
