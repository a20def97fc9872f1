-- Quota reservations in one round trip (docs/decisions/0765): reserve_quota decides and holds in one call, so that a hard meter's lock
-- (ADR 0710) is held for one statement and the commit instead of four round trips. It runs as the caller (row-level security applies).
-- The meter's lock is taken only when the policy is hard and the limit finite (p_limit not null): a hold that cannot be refused
-- decides nothing on what it reads. Each statement of a VOLATILE plpgsql function takes a new snapshot, so what is read after the
-- lock includes every hold and hard ingestion committed before it.
CREATE FUNCTION reserve_quota(p_tenant_id uuid, p_meter text, p_period date, p_now timestamptz, p_id uuid, p_amount numeric,
                              p_expires_at timestamptz, p_limit numeric)
    RETURNS TABLE (used numeric, reserved numeric, hard boolean, held boolean)
    LANGUAGE plpgsql VOLATILE SET search_path = public
    AS $$
    DECLARE
        v_used numeric;
        v_reserved numeric;
        v_hard boolean;
    BEGIN
        IF p_limit IS NOT NULL AND EXISTS (SELECT 1 FROM usage_meter_policies p
                                           WHERE p.tenant_id = p_tenant_id AND p.meter = p_meter AND p.policy = 'hard') THEN
            PERFORM pg_advisory_xact_lock(hashtextextended(p_tenant_id::text || '/' || p_meter, 640));
        END IF;
        SELECT coalesce((SELECT u.used FROM usage_rollups u
                         WHERE u.tenant_id = p_tenant_id AND u.meter = p_meter AND u.period_start = p_period), 0),
               coalesce((SELECT sum(r.amount) FROM usage_reservations r
                         WHERE r.tenant_id = p_tenant_id AND r.meter = p_meter AND r.consumed_at IS NULL AND r.expires_at > p_now), 0),
               EXISTS (SELECT 1 FROM usage_meter_policies p WHERE p.tenant_id = p_tenant_id AND p.meter = p_meter AND p.policy = 'hard')
        INTO v_used, v_reserved, v_hard;
        IF p_limit IS NOT NULL AND v_hard AND v_used + v_reserved + p_amount > p_limit THEN
            RETURN QUERY SELECT v_used, v_reserved, v_hard, false;
            RETURN;
        END IF;
        INSERT INTO usage_reservations (tenant_id, id, meter, amount, created_at, expires_at)
        VALUES (p_tenant_id, p_id, p_meter, p_amount, p_now, p_expires_at);
        RETURN QUERY SELECT v_used, v_reserved, v_hard, true;
    END
    $$;

REVOKE ALL ON FUNCTION reserve_quota(uuid, text, date, timestamptz, uuid, numeric, timestamptz, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reserve_quota(uuid, text, date, timestamptz, uuid, numeric, timestamptz, numeric) TO platform_app;
