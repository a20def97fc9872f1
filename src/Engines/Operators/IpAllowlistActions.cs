using System.Text.Json;
using Platform.Drivers.IpAllowlists;
using Platform.Drivers.Sessions;
using Platform.Engines.IpAllowlists;
using Platform.Models.Errors;
using Platform.Models.IpAllowlists;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Names the founder action of the IP allowlist rescue (ADR 0551).</summary>
public static class IpAllowlistActionTypes
{
    public const string Clear = "ip_allowlist.clear";
}

/// <summary>Empties a tenant's IP allowlist, the rescue of a tenant that locked itself out (support+; the target is the tenant id); reversing it puts the
/// cleared entries back.</summary>
internal sealed class ClearIpAllowlistAction(IIpAllowlistDriver allowlists, IpAllowlistChanges changes) : IFounderActionType
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Name => IpAllowlistActionTypes.Clear;
    public string TargetType => "tenant";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(Guid.TryParse(targetId, out var id) ? id : throw new NotFoundException("tenant"));

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var before = await allowlists.ListEntriesAsync(context.Session, context.Scope.Tenant.Id, cancellationToken);
        await changes.ReplaceAsync(context.Scope, context.Caller, [], "ip_allowlist.cleared_by_operator", cancellationToken);
        return new { entries = before };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var entries = details.RootElement.TryGetProperty("entries", out var e)
            ? e.Deserialize<List<IpAllowlistEntry>>(Json) ?? []
            : [];
        await changes.ReplaceAsync(context.Scope, context.Caller, entries, "ip_allowlist.restored_by_operator", cancellationToken);
    }
}
