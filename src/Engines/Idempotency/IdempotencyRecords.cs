using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Platform.Drivers.Sessions;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Idempotency;
using Platform.Models.Tenants;

namespace Platform.Engines.Idempotency;

/// <summary>Opens the session an Idempotency-Key record lives in and keeps stored response bodies encrypted at rest with Data Protection.</summary>
/// <remarks>Some replayed responses show a secret once (an API key, an invitation token, a PaymentIntent's client secret), so every stored body is ciphertext (ADR 0190).</remarks>
internal sealed class IdempotencyRecords(TenantGate gate, IDbSessionFactory sessions, IDataProtectionProvider dataProtection)
{
    private readonly IDataProtector protector = dataProtection.CreateProtector("Platform.Idempotency.Response.v1");

    /// <summary>Names the key space of a caller: its tenant and its user or API key id, or, outside a tenant, its user id.</summary>
    /// <remarks>Outside a tenant only a user has keys (others get 401, as the routes there answer them); inside one, users and API keys.</remarks>
    public static IdempotencyScope ScopeOf(Caller caller, Guid? tenantId) => caller.Kind switch
    {
        _ when tenantId is null => new(null, caller.RequireUserId()),
        CallerKind.ApiKey => new(tenantId, caller.ApiKeyId!.Value),
        CallerKind.User => new(tenantId, caller.RequireUserId()),
        _ => throw new ForbiddenException("Idempotency keys are kept for signed-in users and, inside their tenant, API keys."),
    };

    /// <summary>Opens the session of a claim: inside a tenant the caller must reach it (a member, or a key of that tenant; else 404), outside one the user's own scope.</summary>
    public async Task<IDbSession> OpenForClaimAsync(Caller caller, Guid? tenantId, CancellationToken cancellationToken)
    {
        if (tenantId is not { } tenant)
        {
            return await sessions.OpenAsync(null, caller.RequireUserId(), cancellationToken);
        }
        if (caller.Kind == CallerKind.ApiKey)
        {
            return caller.KeyTenantId == tenant
                ? await sessions.OpenAsync(tenant, null, cancellationToken)
                : throw new NotFoundException("tenant");
        }
        var scope = await gate.EnterAsync(tenant, caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return scope.Session;
    }

    /// <summary>Opens the session that stores or releases a claim already made.</summary>
    public Task<IDbSession> OpenForOutcomeAsync(IdempotencyScope scope, CancellationToken cancellationToken) =>
        scope.TenantId is { } tenant
            ? sessions.OpenAsync(tenant, null, cancellationToken)
            : sessions.OpenAsync(null, scope.CallerId, cancellationToken);

    public byte[] Protect(byte[] body) => protector.Protect(body);

    /// <summary>Reads a completed record back as the response to replay.</summary>
    public IdempotentResponse ToResponse(IdempotencyRecordSnapshot record)
    {
        var headers = record.ResponseHeaders is { } json
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? []
            : [];
        var body = record.ResponseBodyEncrypted is { Length: > 0 } encrypted ? protector.Unprotect(encrypted) : [];
        return new IdempotentResponse(record.StatusCode ?? 500, headers, body);
    }

    public static string HeadersJson(IReadOnlyDictionary<string, string> headers) => JsonSerializer.Serialize(headers);
}
