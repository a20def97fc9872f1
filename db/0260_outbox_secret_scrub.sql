-- Outbox secrets (issue 5): payloads keep secrets (an invitation token) only encrypted with Data Protection,
-- under "secrets", and lose them as soon as the message is sent or given up (see docs/decisions/0260-*).

-- As in 0200, plus: a message that is sent or failed for good drops its payload's "secrets".
CREATE OR REPLACE FUNCTION finish_outbox_attempt(p_id uuid, p_attempt integer, p_status text, p_error text,
                                                 p_next_attempt_at timestamptz, p_now timestamptz)
    RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH done AS (
            UPDATE outbox_messages o
            SET status = p_status,
                last_error = CASE WHEN p_status = 'sent' THEN o.last_error ELSE left(p_error, 2000) END,
                next_attempt_at = coalesce(p_next_attempt_at, o.next_attempt_at),
                sent_at = CASE WHEN p_status = 'sent' THEN p_now END,
                payload = CASE WHEN p_status IN ('sent', 'failed') THEN o.payload - 'secrets' ELSE o.payload END
            WHERE o.id = p_id AND o.attempts = p_attempt AND o.status = 'pending'
              AND p_status IN ('sent', 'pending', 'failed')
            RETURNING 1)
        SELECT EXISTS (SELECT 1 FROM done)
    $$;

-- Messages written before this migration carry the raw token in their rendered bodies. Those already sent or
-- failed need it no more: a one-off function (platform_xt, whose dispatcher policies reach every tenant's rows)
-- blanks the tokens out, then is dropped. Pending ones keep it so that their link still works when sent.
GRANT CREATE ON SCHEMA public TO platform_xt;
CREATE FUNCTION redact_sent_invitation_tokens_0260()
    RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH done AS (
            UPDATE outbox_messages o
            SET payload = jsonb_set(jsonb_set(o.payload,
                    '{text}', to_jsonb(regexp_replace(o.payload ->> 'text', 'inv_[A-Za-z0-9_-]+', 'inv_redacted', 'g'))),
                    '{html}', to_jsonb(regexp_replace(o.payload ->> 'html', 'inv_[A-Za-z0-9_-]+', 'inv_redacted', 'g')))
            WHERE o.kind = 'email.invitation' AND o.status IN ('sent', 'failed') AND NOT (o.payload ? 'secrets')
              AND o.payload ? 'text' AND o.payload ? 'html'
            RETURNING 1)
        SELECT count(*)::integer FROM done
    $$;
ALTER FUNCTION redact_sent_invitation_tokens_0260() OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
SELECT redact_sent_invitation_tokens_0260();
DROP FUNCTION redact_sent_invitation_tokens_0260();
