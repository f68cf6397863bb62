-- Each answered call's full text, so `triage tune` can retrain the learned answer estimator
-- (strategy.answer_estimator) on the same features it reads in service: the step check, the
-- form of the answer, hedges, length. Bounded like the answer: a text over 64 KiB, or one
-- holding U+0000 (which a text column cannot), is not kept (NULL), and tuning leaves that
-- attempt out of the estimator's training.
ALTER TABLE attempts ADD COLUMN response text;
