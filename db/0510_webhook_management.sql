-- Webhook management (issue 11, ADR 0510): an endpoint's delivery log is listed newest first by event id (UUIDv7, so time order),
-- with the event id as the cursor; this index serves that page without sorting the endpoint's whole log.
CREATE INDEX outbox_messages_endpoint_event_idx ON outbox_messages (tenant_id, endpoint_id, event_id DESC) WHERE kind = 'webhook';
