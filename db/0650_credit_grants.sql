-- Credit grants and corrections (docs/decisions/0650-credit-grants-and-corrections.md): the monthly grant job, expiry of the
-- unused part of a period's grants, plan upgrades granting the difference, and operators' adjustments and refunds.

-- period_granted: what the plan granted in last_grant_period (the monthly grant plus upgrade differences), so an upgrade grants
-- only what is still missing. grant_remaining: the part of those grants not spent yet (debits spend granted credits first), which
-- is what expires at the period's end when Credits:ExpireUnusedAtPeriodEnd is on; never more than the balance.
ALTER TABLE credit_accounts
    ADD COLUMN period_granted  bigint NOT NULL DEFAULT 0 CHECK (period_granted >= 0),
    ADD COLUMN grant_remaining bigint NOT NULL DEFAULT 0 CHECK (grant_remaining >= 0);
ALTER TABLE credit_accounts ADD CONSTRAINT credit_accounts_grant_remaining_within_balance CHECK (grant_remaining <= balance);
-- Accounts granted already this month count the plan's grant as granted (so no upgrade difference is paid twice); what is unspent of it is
-- unknown and taken as 0 (nothing expires for that month). The owner sees no rows under FORCE, so it is lifted for this one statement.
ALTER TABLE credit_accounts NO FORCE ROW LEVEL SECURITY;
UPDATE credit_accounts SET period_granted = greatest(monthly_grant, 0) WHERE last_grant_period IS NOT NULL;
ALTER TABLE credit_accounts FORCE ROW LEVEL SECURITY;

-- 'expiry': the unused part of the previous period's grants taken back when the next period is granted.
ALTER TABLE credit_transactions DROP CONSTRAINT credit_transactions_type_check;
ALTER TABLE credit_transactions ADD CONSTRAINT credit_transactions_type_check
    CHECK (type IN ('quota_monthly', 'purchase', 'usage', 'refund', 'adjustment', 'plan_upgrade', 'expiry'));

CREATE POLICY cross_tenant_read ON credit_accounts FOR SELECT TO platform_xt USING (current_user = 'platform_xt');
GRANT SELECT ON credit_accounts TO platform_xt;

-- Tenants (not deleted) whose credit account has not been granted p_period yet, or who have no account: the grant job's work list.
-- Names tenants only; the job claims each with SKIP LOCKED and the grant itself is one conditional update on the account row.
CREATE FUNCTION tenants_due_for_credit_grant(p_period text, p_limit integer)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT t.id
        FROM tenants t
        LEFT JOIN credit_accounts a ON a.tenant_id = t.id
        WHERE t.status <> 'deleted' AND (a.tenant_id IS NULL OR a.last_grant_period IS DISTINCT FROM p_period)
        ORDER BY t.id
        LIMIT p_limit
    $$;

GRANT CREATE ON SCHEMA public TO platform_xt;
ALTER FUNCTION tenants_due_for_credit_grant(text, integer) OWNER TO platform_xt;
REVOKE CREATE ON SCHEMA public FROM platform_xt;
REVOKE ALL ON FUNCTION tenants_due_for_credit_grant(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenants_due_for_credit_grant(text, integer) TO platform_app;
