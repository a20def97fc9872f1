-- Credits on runs (issue 4): the registry says how many credits one run of a worker costs; 0 means the worker
-- costs no credits. uses_credits stays the flag shown in the catalogue; the amount debited at admission is this.
ALTER TABLE workers ADD COLUMN credits_per_run bigint NOT NULL DEFAULT 0 CHECK (credits_per_run >= 0);
ALTER TABLE workers ADD CONSTRAINT workers_credits_need_flag CHECK (credits_per_run = 0 OR uses_credits);
UPDATE workers SET credits_per_run = 1 WHERE uses_credits;
