-- Webhook delivery speed (issue 11's benchmark goal, ADR 0700): a committed event wakes the dispatchers at once instead of at
-- their next poll. Every statement that inserts webhook events (emission, the test message, emit_webhook_events) also inserted
-- their deliveries, due now, in the same statement; the notice is sent at commit, so a woken dispatcher's claim sees them.
-- Identical notices of one transaction arrive once, and a statement-level trigger sends one per statement, not per event.
-- Deliveries that come due later (retries, rate-limit windows, recovery) are still found by the poll.
CREATE FUNCTION notify_webhook_deliveries_due() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('platform_webhook_due', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER webhook_events_due
    AFTER INSERT ON webhook_events
    FOR EACH STATEMENT
    EXECUTE FUNCTION notify_webhook_deliveries_due();
