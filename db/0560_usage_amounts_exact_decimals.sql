-- Usage amounts become exact decimals (docs/decisions/0560): events and rollups hold numeric instead of bigint, so that
-- 0.5 GPU hours or 0.1 GB is stored as sent. Every bigint converts to the same numeric value exactly; the append-only
-- trigger of usage_events fires on row UPDATE and DELETE only, not on this rewrite. A meter's precision is checked by
-- the service; the columns cap the scale at 6 decimals (the most any meter has) and refuse negative amounts as before.
ALTER TABLE usage_events ALTER COLUMN amount TYPE numeric USING amount::numeric;
ALTER TABLE usage_events ADD CONSTRAINT usage_events_amount_scale CHECK (scale(amount) <= 6);
ALTER TABLE usage_rollups ALTER COLUMN used TYPE numeric USING used::numeric;
