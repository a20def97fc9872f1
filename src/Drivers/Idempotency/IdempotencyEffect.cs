using Platform.Drivers.Sessions;
using Platform.Models.Idempotency;

namespace Platform.Drivers.Idempotency;

/// <summary>Is the Idempotency-Key claim the current request holds.</summary>
public sealed record IdempotencyEffectClaim(IdempotencyScope Scope, string Key, Guid ClaimId);

/// <summary>Carries the current request's claim to the sessions its engines commit, so that the commit of its effect marks the key in the same transaction (ADR 0190).</summary>
/// <remarks>A key so marked is never run again: if its instance dies before the outcome is stored, a retry learns that the effect happened instead of repeating it.</remarks>
public static class IdempotencyEffect
{
    private static readonly AsyncLocal<IdempotencyEffectClaim?> Ambient = new();

    /// <summary>Gets the claim of the current flow, or null.</summary>
    public static IdempotencyEffectClaim? Current => Ambient.Value;

    /// <summary>Sets (or, with null, clears) the claim for the rest of the calling flow; call it from a synchronous method or before the awaits it should reach.</summary>
    public static void Set(IdempotencyEffectClaim? claim) => Ambient.Value = claim;

    /// <summary>Marks the claim as having taken effect when the session belongs to its tenant (or, outside tenants, to its user); a no-op otherwise.</summary>
    internal static async Task MarkAsync(NpgsqlDbSession session, CancellationToken cancellationToken)
    {
        if (Ambient.Value is not { } claim || session.ScopePending)
        {
            return;
        }
        var scope = claim.Scope;
        if (scope.TenantId is { } tenantId ? session.TenantId != tenantId : session.UserId != scope.CallerId)
        {
            return;
        }
        await session.ExecuteAsync(session.Command(
            scope.TenantId is null
                ? """
                  UPDATE user_idempotency_keys SET effect_committed_at = now()
                  WHERE user_id = @CallerId AND key = @Key AND claim_id = @ClaimId AND state = 'in_flight' AND effect_committed_at IS NULL
                  """
                : """
                  UPDATE idempotency_keys SET effect_committed_at = now()
                  WHERE tenant_id = @TenantId AND caller_id = @CallerId AND key = @Key AND claim_id = @ClaimId AND state = 'in_flight'
                    AND effect_committed_at IS NULL
                  """,
            new { scope.TenantId, scope.CallerId, claim.Key, claim.ClaimId }, cancellationToken));
    }
}
