-- Quota reservations (docs/decisions/0710): POST /quota-checks with reserve=true holds an amount of a meter for a few seconds, so
-- that two parallel checks cannot both spend the last unit. A hold is active while consumed_at is null and expires_at is in the
-- future (expiry is by time in the queries: no job has to run for a hold to lapse); a usage event naming the reservation consumes
-- it. Old rows are deleted by the usage purge (purge_usage_reservations below).
CREATE TABLE usage_reservations (
    tenant_id   uuid          NOT NULL REFERENCES tenants (id),
    id          uuid          NOT NULL,
    meter       text          NOT NULL CHECK (meter ~ '^[a-z][a-z0-9_]{0,62}$'),
    amount      numeric(24,6) NOT NULL CHECK (amount >= 0),
    created_at  timestamptz   NOT NULL,
    expires_at  timestamptz   NOT NULL CHECK (expires_at > created_at),
    consumed_at timestamptz,
    -- The idempotency key of the usage event that consumed the hold.
    consumed_by text,
    PRIMARY KEY (tenant_id, id)
);
-- The active holds of one meter are summed under the meter's lock on every check and every hard ingestion.
CREATE INDEX usage_reservations_active_idx ON usage_reservations (tenant_id, meter, expires_at) WHERE consumed_at IS NULL;
CREATE INDEX usage_reservations_expires_idx ON usage_reservations (expires_at);

ALTER TABLE usage_reservations ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_reservations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_reservations
    USING (tenant_id = app_tenant_id()) WITH CHECK (tenant_id = app_tenant_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON usage_reservations TO platform_app;

-- The purge's one cross-tenant step: delete up to p_limit reservations that expired before p_before (consumed or not). It runs as
-- platform_xt, whose policy below holds only while such a function runs (as db/0410's purge of idempotency keys).
CREATE POLICY cross_tenant_purge ON usage_reservations FOR ALL TO platform_xt
    USING (current_user = 'platform_xt') WITH CHECK (current_user = 'platform_xt');
GRANT SELECT, DELETE ON usage_reservations TO platform_xt;

CREATE FUNCTION purge_usage_reservations(p_before timestamptz, p_limit integer)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        v_deleted integer;
    BEGIN
        DELETE FROM usage_reservations r
        USING (SELECT tenant_id, id FROM usage_reservations
               WHERE expires_at < p_before ORDER BY expires_at LIMIT p_limit) doomed
        WHERE r.tenant_id = doomed.tenant_id AND r.id = doomed.id;
        GET DIAGNOSTICS v_deleted = ROW_COUNT;
        RETURN v_deleted;
    END
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION purge_usage_reservations(timestamptz, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION purge_usage_reservations(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_usage_reservations(timestamptz, integer) TO platform_app;
