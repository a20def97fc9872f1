using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Operators;

namespace Platform.Drivers.Operators;

/// <summary>Reads and writes operators (platform_users), a global table of the operator plane.</summary>
public interface IOperatorDriver
{
    /// <summary>Inserts an operator, or returns false when the email is already taken.</summary>
    Task<bool> TryInsertOperatorAsync(IDbSession session, NewOperator newOperator, CancellationToken cancellationToken);

    /// <summary>Fetches an operator with its password hash and protected TOTP secret by email (case-insensitive), or null.</summary>
    Task<OperatorCredentials?> FetchCredentialsByEmailAsync(IDbSession session, string email, CancellationToken cancellationToken);

    /// <summary>Replaces an active operator's password hash; false when the operator is unknown or disabled.</summary>
    Task<bool> SetPasswordHashAsync(IDbSession session, Guid operatorId, string passwordHash, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Fetches an operator by id, or null.</summary>
    Task<OperatorSnapshot?> FetchOperatorAsync(IDbSession session, Guid operatorId, CancellationToken cancellationToken);

    /// <summary>Counts a login attempt as failed in one conditional update, locking the operator until lockedUntil when it reaches maxFailures; refuses (Admitted false) while a lock holds.</summary>
    Task<LoginAttempt> ReserveLoginAttemptAsync(IDbSession session, Guid operatorId, int maxFailures, DateTimeOffset now, DateTimeOffset lockUntil, CancellationToken cancellationToken);

    /// <summary>Records a TOTP time step as used, or returns false when this or a later step was already used (a replayed code).</summary>
    Task<bool> TryUseTotpStepAsync(IDbSession session, Guid operatorId, long step, CancellationToken cancellationToken);

    /// <summary>Clears the failure count and lock and records the login time and client IP.</summary>
    Task<OperatorSnapshot> RecordSuccessfulLoginAsync(IDbSession session, Guid operatorId, DateTimeOffset now, string? ip, CancellationToken cancellationToken);

    /// <summary>Lists operators in id order after an id, up to limit.</summary>
    Task<IReadOnlyList<OperatorSnapshot>> ListOperatorsAsync(IDbSession session, Guid? after, int limit, CancellationToken cancellationToken);

    /// <summary>Locks the rows of every active super_admin (in id order, so concurrent callers queue) and returns their ids as they stand once locked.</summary>
    Task<IReadOnlyList<Guid>> LockActiveSuperAdminsAsync(IDbSession session, CancellationToken cancellationToken);

    /// <summary>Sets an operator's role; promotion to super_admin without TOTP makes enrolment required. Returns the operator, or null when unknown.</summary>
    Task<OperatorSnapshot?> SetRoleAsync(IDbSession session, Guid operatorId, OperatorRole role, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Sets an operator's status (active or disabled); returns the operator, or null when unknown.</summary>
    Task<OperatorSnapshot?> SetStatusAsync(IDbSession session, Guid operatorId, OperatorStatus status, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Removes an operator's TOTP secret (active and pending) and requires a new enrolment; returns the operator, or null when unknown.</summary>
    Task<OperatorSnapshot?> ResetTotpAsync(IDbSession session, Guid operatorId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Stores a protected TOTP secret as the operator's pending enrolment, replacing an earlier one.</summary>
    Task SetPendingTotpAsync(IDbSession session, Guid operatorId, string protectedSecret, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Fetches the operator's pending protected TOTP secret, or null.</summary>
    Task<string?> FetchPendingTotpAsync(IDbSession session, Guid operatorId, CancellationToken cancellationToken);

    /// <summary>Makes the pending secret (if it is still pendingSecret) the operator's TOTP secret, records the used step and clears the enrolment requirement; returns null when it changed meanwhile.</summary>
    Task<OperatorSnapshot?> ConfirmTotpAsync(IDbSession session, Guid operatorId, string pendingSecret, long step, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class OperatorDriver : IOperatorDriver
{
    private const string Columns =
        "id, email::text AS email, name, role, totp_enabled, status, failed_attempts, locked_until, last_login_at, last_login_ip, created_at, totp_enrolment_required";

    public async Task<bool> TryInsertOperatorAsync(IDbSession session, NewOperator newOperator, CancellationToken cancellationToken)
    {
        var inserted = await session.ExecuteAsync(
            """
            INSERT INTO platform_users (id, email, name, role, password_hash, totp_secret_protected, totp_enabled, created_at, updated_at)
            VALUES (@Id, @Email, @Name, @Role, @PasswordHash, @TotpSecretProtected, @TotpEnabled, @Now, @Now)
            ON CONFLICT (email) DO NOTHING
            """,
            new
            {
                newOperator.Id, newOperator.Email, newOperator.Name, Role = newOperator.Role.ToWire(), newOperator.PasswordHash,
                newOperator.TotpSecretProtected, newOperator.TotpEnabled, newOperator.Now,
            },
            cancellationToken);
        return inserted == 1;
    }

    public async Task<OperatorCredentials?> FetchCredentialsByEmailAsync(IDbSession session, string email, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleOrDefaultAsync<OperatorRow>(
            $"SELECT {Columns}, password_hash, totp_secret_protected FROM platform_users WHERE email = @email::citext",
            new { email }, cancellationToken);
        return row is null ? null : new OperatorCredentials(row.ToSnapshot(), row.PasswordHash ?? "", row.TotpSecretProtected);
    }

    public async Task<OperatorSnapshot?> FetchOperatorAsync(IDbSession session, Guid operatorId, CancellationToken cancellationToken)
    {
        return await session.FetchAsync(
            $"SELECT {Columns} FROM platform_users WHERE id = @operatorId", new { operatorId }, (OperatorRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<LoginAttempt> ReserveLoginAttemptAsync(
        IDbSession session, Guid operatorId, int maxFailures, DateTimeOffset now, DateTimeOffset lockUntil, CancellationToken cancellationToken)
    {
        // One statement: the row lock serialises concurrent attempts, so exactly maxFailures attempts are admitted before the lock.
        // An expired lock starts a fresh count.
        var admitted = await session.QuerySingleOrDefaultAsync<AttemptRow>(
            """
            UPDATE platform_users SET
                failed_attempts = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END,
                locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_attempts + 1 END) >= @maxFailures
                                    THEN @lockUntil ELSE NULL END,
                updated_at = @now
            WHERE id = @operatorId AND (locked_until IS NULL OR locked_until <= @now)
            RETURNING failed_attempts, locked_until
            """,
            new { operatorId, maxFailures, now, lockUntil }, cancellationToken);
        if (admitted is not null)
        {
            return new LoginAttempt(true, admitted.FailedAttempts, admitted.LockedUntil.ToUtcOffset());
        }
        var current = await session.QuerySingleAsync<AttemptRow>(
            "SELECT failed_attempts, locked_until FROM platform_users WHERE id = @operatorId", new { operatorId }, cancellationToken);
        return new LoginAttempt(false, current.FailedAttempts, current.LockedUntil.ToUtcOffset());
    }

    public async Task<bool> TryUseTotpStepAsync(IDbSession session, Guid operatorId, long step, CancellationToken cancellationToken)
    {
        var used = await session.ExecuteAsync(
            "UPDATE platform_users SET totp_last_step = @step WHERE id = @operatorId AND (totp_last_step IS NULL OR totp_last_step < @step)",
            new { operatorId, step }, cancellationToken);
        return used == 1;
    }

    public async Task<bool> SetPasswordHashAsync(IDbSession session, Guid operatorId, string passwordHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await session.ExecuteAsync(
            "UPDATE platform_users SET password_hash = @passwordHash, updated_at = @now WHERE id = @operatorId AND status = 'active'",
            new { operatorId, passwordHash, now }, cancellationToken) == 1;
    }

    public async Task<OperatorSnapshot> RecordSuccessfulLoginAsync(IDbSession session, Guid operatorId, DateTimeOffset now, string? ip, CancellationToken cancellationToken)
    {
        var row = await session.QuerySingleAsync<OperatorRow>(
            $"""
            UPDATE platform_users
            SET failed_attempts = 0, locked_until = NULL, last_login_at = @now, last_login_ip = @ip, updated_at = @now
            WHERE id = @operatorId
            RETURNING {Columns}
            """,
            new { operatorId, now, ip }, cancellationToken);
        return row.ToSnapshot();
    }

    public async Task<IReadOnlyList<OperatorSnapshot>> ListOperatorsAsync(IDbSession session, Guid? after, int limit, CancellationToken cancellationToken)
    {
        return await session.ListAsync(
            $"SELECT {Columns} FROM platform_users WHERE (@after::uuid IS NULL OR id > @after) ORDER BY id LIMIT @limit",
            new { after, limit }, (OperatorRow r) => r.ToSnapshot(), cancellationToken);
    }

    public async Task<IReadOnlyList<Guid>> LockActiveSuperAdminsAsync(IDbSession session, CancellationToken cancellationToken)
    {
        // A row changed by a transaction we waited for is re-checked against the WHERE once that one commits.
        var ids = await session.QueryAsync<Guid>(
            "SELECT id FROM platform_users WHERE role = 'super_admin' AND status = 'active' ORDER BY id FOR UPDATE",
            null, cancellationToken);
        return ids.ToList();
    }

    public Task<OperatorSnapshot?> SetRoleAsync(IDbSession session, Guid operatorId, OperatorRole role, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(session,
            """
            UPDATE platform_users SET role = @role,
                totp_enrolment_required = totp_enrolment_required OR (@role = 'super_admin' AND NOT totp_enabled),
                updated_at = @now
            WHERE id = @operatorId
            RETURNING
            """,
            new { operatorId, role = role.ToWire(), now }, cancellationToken);

    public Task<OperatorSnapshot?> SetStatusAsync(IDbSession session, Guid operatorId, OperatorStatus status, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(session, "UPDATE platform_users SET status = @status, updated_at = @now WHERE id = @operatorId RETURNING",
            new { operatorId, status = status.ToWire(), now }, cancellationToken);

    public Task<OperatorSnapshot?> ResetTotpAsync(IDbSession session, Guid operatorId, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(session,
            """
            UPDATE platform_users SET totp_secret_protected = NULL, totp_enabled = false, totp_last_step = NULL,
                totp_pending_secret_protected = NULL, totp_enrolment_required = true, updated_at = @now
            WHERE id = @operatorId
            RETURNING
            """,
            new { operatorId, now }, cancellationToken);

    public async Task SetPendingTotpAsync(IDbSession session, Guid operatorId, string protectedSecret, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE platform_users SET totp_pending_secret_protected = @protectedSecret, updated_at = @now WHERE id = @operatorId",
            new { operatorId, protectedSecret, now }, cancellationToken);
    }

    public async Task<string?> FetchPendingTotpAsync(IDbSession session, Guid operatorId, CancellationToken cancellationToken)
    {
        return await session.QuerySingleOrDefaultAsync<string?>(
            "SELECT totp_pending_secret_protected FROM platform_users WHERE id = @operatorId", new { operatorId }, cancellationToken);
    }

    public Task<OperatorSnapshot?> ConfirmTotpAsync(IDbSession session, Guid operatorId, string pendingSecret, long step, DateTimeOffset now, CancellationToken cancellationToken) =>
        UpdateAsync(session,
            """
            UPDATE platform_users SET totp_secret_protected = totp_pending_secret_protected, totp_pending_secret_protected = NULL,
                totp_enabled = true, totp_enrolment_required = false, totp_last_step = @step, updated_at = @now
            WHERE id = @operatorId AND totp_pending_secret_protected = @pendingSecret
            RETURNING
            """,
            new { operatorId, pendingSecret, step, now }, cancellationToken);

    /// <summary>Runs an UPDATE ending in RETURNING (the operator columns are appended) and reads the operator back, or null when no row matched.</summary>
    private static async Task<OperatorSnapshot?> UpdateAsync(IDbSession session, string updateReturning, object parameters, CancellationToken cancellationToken)
    {
        return await session.FetchAsync($"{updateReturning} {Columns}", parameters, (OperatorRow r) => r.ToSnapshot(), cancellationToken);
    }

    private sealed class AttemptRow
    {
        public int FailedAttempts { get; init; }
        public DateTime? LockedUntil { get; init; }
    }

    private sealed class OperatorRow
    {
        public Guid Id { get; init; }
        public string Email { get; init; } = "";
        public string Name { get; init; } = "";
        public string Role { get; init; } = "";
        public bool TotpEnabled { get; init; }
        public string Status { get; init; } = "";
        public int FailedAttempts { get; init; }
        public DateTime? LockedUntil { get; init; }
        public DateTime? LastLoginAt { get; init; }
        public string? LastLoginIp { get; init; }
        public DateTime CreatedAt { get; init; }
        public string? PasswordHash { get; init; }
        public string? TotpSecretProtected { get; init; }
        public bool TotpEnrolmentRequired { get; init; }

        public OperatorSnapshot ToSnapshot() => new(
            Id, Email, Name, WireNames.Parse<OperatorRole>(Role), TotpEnabled, WireNames.Parse<OperatorStatus>(Status), FailedAttempts, LockedUntil.ToUtcOffset(),
            LastLoginAt.ToUtcOffset(), LastLoginIp, CreatedAt.ToUtcOffset())
        {
            TotpEnrolmentRequired = TotpEnrolmentRequired,
        };
    }
}
