using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models.Tenants;

namespace Platform.Drivers.Tenants;

/// <summary>Reads and writes the fair-use ledger (db/0520): the per-user creation lock, owned tenants, operator caps, trials and their grants, and refusals.</summary>
public interface IFairUseDriver
{
    /// <summary>Takes a transaction-scoped advisory lock on the user's tenant creations: concurrent creations of one user run one after the other.</summary>
    Task LockUserCreationsAsync(IDbSession session, Guid userId, CancellationToken cancellationToken);

    /// <summary>Counts the live (not deleted) tenants the user owns, across tenants.</summary>
    Task<int> CountOwnedTenantsAsync(IDbSession session, Guid userId, CancellationToken cancellationToken);

    /// <summary>Fetches the operator's cap on the user's owned tenants, or null (the configured default holds).</summary>
    Task<UserTenantCap?> FetchTenantCapAsync(IDbSession session, Guid userId, CancellationToken cancellationToken);

    /// <summary>Sets the user's cap (insert or replace).</summary>
    Task UpsertTenantCapAsync(IDbSession session, UserTenantCap cap, CancellationToken cancellationToken);

    /// <summary>Removes the user's cap; the default holds again.</summary>
    Task DeleteTenantCapAsync(IDbSession session, Guid userId, CancellationToken cancellationToken);

    /// <summary>Tells whether the user ever started a trial of the plan family (self-serve or granted).</summary>
    Task<bool> HadTrialOfFamilyAsync(IDbSession session, Guid userId, string family, CancellationToken cancellationToken);

    /// <summary>Tells whether the user has an open (unused, not revoked) operator grant for the plan family.</summary>
    Task<bool> HasOpenAllowanceAsync(IDbSession session, Guid userId, string family, CancellationToken cancellationToken);

    /// <summary>Uses the user's oldest open grant for the family for a tenant; returns its id, or null when none is open.</summary>
    Task<Guid?> UseOpenAllowanceAsync(IDbSession session, Guid userId, string family, Guid tenantId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records a started trial; a second self-serve trial of one user and family breaks the unique index (a PostgresException 23505).</summary>
    Task InsertTrialGrantAsync(IDbSession session, Guid userId, string family, Guid tenantId, bool selfServe, Guid? allowanceId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Inserts an operator's trial grant for a user and plan family.</summary>
    Task InsertAllowanceAsync(IDbSession session, Guid id, Guid userId, string family, Guid actionId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Revokes an open grant; says whether it was revoked, already used, or not open.</summary>
    Task<AllowanceRevocation> RevokeAllowanceAsync(IDbSession session, Guid id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Counts one refusal of a rule for a user (its own small transaction, after the refused one rolled back).</summary>
    Task RecordRefusalAsync(IDbSession session, Guid userId, string rule, string detail, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lists the users who met a fair-use limit (of one rule, or any), one row each, in user id order after a cursor id.</summary>
    Task<IReadOnlyList<CappedUser>> ListCappedUsersAsync(IDbSession session, string? rule, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Gets a user's email across tenants, or null when no such user exists.</summary>
    Task<string?> FetchUserEmailAsync(IDbSession session, Guid userId, CancellationToken cancellationToken);
}

internal sealed class FairUseDriver : IFairUseDriver
{
    public async Task LockUserCreationsAsync(IDbSession session, Guid userId, CancellationToken cancellationToken)
    {
        // Key space "fair_use:create" keeps this lock apart from any other advisory lock of the schema.
        await session.ExecuteAsync(
            "SELECT pg_advisory_xact_lock(hashtext('fair_use:create'), hashtext(@userId::text))", new { userId }, cancellationToken);
    }

    public async Task<int> CountOwnedTenantsAsync(IDbSession session, Guid userId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<int>("SELECT owned_tenant_count(@userId)", new { userId }, cancellationToken);
    }

    public async Task<UserTenantCap?> FetchTenantCapAsync(IDbSession session, Guid userId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            """
            SELECT user_id, max_owned_tenants, reason, set_by_action, updated_at
            FROM user_tenant_caps WHERE user_id = @userId
            """,
            new { userId }, (CapRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task UpsertTenantCapAsync(IDbSession session, UserTenantCap cap, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO user_tenant_caps (user_id, max_owned_tenants, reason, set_by_action, updated_at)
            VALUES (@UserId, @MaxOwnedTenants, @Reason, @SetByAction, @UpdatedAt)
            ON CONFLICT (user_id) DO UPDATE SET max_owned_tenants = EXCLUDED.max_owned_tenants, reason = EXCLUDED.reason,
                set_by_action = EXCLUDED.set_by_action, updated_at = EXCLUDED.updated_at
            """,
            cap, cancellationToken);
    }

    public async Task DeleteTenantCapAsync(IDbSession session, Guid userId, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("DELETE FROM user_tenant_caps WHERE user_id = @userId", new { userId }, cancellationToken);
    }

    public async Task<bool> HadTrialOfFamilyAsync(IDbSession session, Guid userId, string family, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM trial_grants WHERE user_id = @userId AND plan_family = @family)", new { userId, family }, cancellationToken);
    }

    public async Task<bool> HasOpenAllowanceAsync(IDbSession session, Guid userId, string family, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<bool>(
            """
            SELECT EXISTS (SELECT 1 FROM trial_allowances
                           WHERE user_id = @userId AND plan_family = @family AND used_at IS NULL AND revoked_at IS NULL)
            """,
            new { userId, family }, cancellationToken);
    }

    public async Task<Guid?> UseOpenAllowanceAsync(IDbSession session, Guid userId, string family, Guid tenantId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The row lock makes a concurrent revocation (or use) wait, and the re-checked condition makes the loser see no open grant.
        return await session.QuerySingleOrDefaultAsync<Guid?>(
            """
            UPDATE trial_allowances SET used_at = @now, used_by_tenant_id = @tenantId
            WHERE id = (SELECT id FROM trial_allowances
                        WHERE user_id = @userId AND plan_family = @family AND used_at IS NULL AND revoked_at IS NULL
                        ORDER BY created_at, id LIMIT 1 FOR UPDATE)
              AND used_at IS NULL AND revoked_at IS NULL
            RETURNING id
            """,
            new { userId, family, tenantId, now }, cancellationToken);
    }

    public async Task InsertTrialGrantAsync(IDbSession session, Guid userId, string family, Guid tenantId, bool selfServe, Guid? allowanceId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO trial_grants (id, user_id, plan_family, trial_tenant_id, source, allowance_id, granted_at)
            VALUES (@id, @userId, @family, @tenantId, @source, @allowanceId, @now)
            """,
            new { id = Guid.CreateVersion7(), userId, family, tenantId, source = selfServe ? "self_serve" : "operator", allowanceId, now }, cancellationToken);
    }

    public async Task InsertAllowanceAsync(IDbSession session, Guid id, Guid userId, string family, Guid actionId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            """
            INSERT INTO trial_allowances (id, user_id, plan_family, granted_by_action, created_at)
            VALUES (@id, @userId, @family, @actionId, @now)
            """,
            new { id, userId, family, actionId, now }, cancellationToken);
    }

    public async Task<AllowanceRevocation> RevokeAllowanceAsync(IDbSession session, Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = await session.QuerySingleOrDefaultAsync<string?>(
            """
            WITH revoked AS (
                UPDATE trial_allowances SET revoked_at = @now WHERE id = @id AND used_at IS NULL AND revoked_at IS NULL RETURNING id)
            SELECT CASE WHEN EXISTS (SELECT 1 FROM revoked) THEN 'revoked'
                        WHEN EXISTS (SELECT 1 FROM trial_allowances WHERE id = @id AND used_at IS NOT NULL) THEN 'used'
                        ELSE 'not_open' END
            """,
            new { id, now }, cancellationToken);
        return state switch
        {
            "revoked" => AllowanceRevocation.Revoked,
            "used" => AllowanceRevocation.AlreadyUsed,
            _ => AllowanceRevocation.NotOpen,
        };
    }

    public async Task RecordRefusalAsync(IDbSession session, Guid userId, string rule, string detail, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var last = detail.Length > 500 ? detail[..500] : detail;
        await session.ExecuteAsync(
            """
            INSERT INTO fair_use_refusals AS r (user_id, rule, refusals, first_at, last_at, last_detail)
            VALUES (@userId, @rule, 1, @now, @now, @last)
            ON CONFLICT (user_id, rule) DO UPDATE SET refusals = r.refusals + 1, last_at = greatest(r.last_at, EXCLUDED.last_at),
                last_detail = EXCLUDED.last_detail
            """,
            new { userId, rule, now, last }, cancellationToken);
    }

    public async Task<IReadOnlyList<CappedUser>> ListCappedUsersAsync(IDbSession session, string? rule, Guid? after, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            """
            SELECT r.user_id, fair_use_user_email(r.user_id) AS email, array_agg(r.rule ORDER BY r.rule) AS rules,
                   sum(r.refusals)::integer AS refusals, min(r.first_at) AS first_at, max(r.last_at) AS last_at,
                   (array_agg(r.last_detail ORDER BY r.last_at DESC))[1] AS last_detail,
                   owned_tenant_count(r.user_id) AS owned_tenants, max(c.max_owned_tenants) AS cap_override
            FROM fair_use_refusals r LEFT JOIN user_tenant_caps c ON c.user_id = r.user_id
            WHERE (@after::uuid IS NULL OR r.user_id > @after)
            GROUP BY r.user_id
            HAVING @rule::text IS NULL OR bool_or(r.rule = @rule)
            ORDER BY r.user_id
            LIMIT @limit
            """,
            new { rule, after, limit }, (CappedRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<string?> FetchUserEmailAsync(IDbSession session, Guid userId, CancellationToken cancellationToken)
    {
        return await session.ExecuteScalarAsync<string?>("SELECT fair_use_user_email(@userId)", new { userId }, cancellationToken);
    }

    private sealed class CapRow
    {
        public Guid UserId { get; init; }
        public int MaxOwnedTenants { get; init; }
        public string Reason { get; init; } = "";
        public Guid SetByAction { get; init; }
        public DateTime UpdatedAt { get; init; }

        public UserTenantCap ToSnapshot() => new(UserId, MaxOwnedTenants, Reason, SetByAction, UpdatedAt.ToUtcOffset());
    }

    private sealed class CappedRow
    {
        public Guid UserId { get; init; }
        public string? Email { get; init; }
        public string[] Rules { get; init; } = [];
        public int Refusals { get; init; }
        public DateTime FirstAt { get; init; }
        public DateTime LastAt { get; init; }
        public string LastDetail { get; init; } = "";
        public int OwnedTenants { get; init; }
        public int? CapOverride { get; init; }

        public CappedUser ToSnapshot() => new(UserId, Email, Rules, Refusals, FirstAt.ToUtcOffset(), LastAt.ToUtcOffset(), LastDetail, OwnedTenants, CapOverride);
    }
}
