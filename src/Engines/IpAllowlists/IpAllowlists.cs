using System.Net;
using FluentValidation;
using MediatR;
using Platform.Drivers.IpAllowlists;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Caching;
using Platform.Engines.Pipeline;
using Platform.Engines.Plans;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.IpAllowlists;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.IpAllowlists;

/// <summary>Reads a tenant's IP allowlist (owner or admin).</summary>
public sealed record GetIpAllowlist(Caller Caller, Guid TenantId) : IRequest<IReadOnlyList<IpAllowlistEntry>>, ITenantRead, ICallerCommand;

/// <summary>Replaces a tenant's IP allowlist (owner or admin); refuses with 409 would_lock_out a list that leaves out the caller's own address, unless confirmed.</summary>
public sealed record ReplaceIpAllowlist(Caller Caller, Guid TenantId, IReadOnlyList<IpAllowlistEntry>? Entries, IPAddress? CallerAddress, bool ConfirmLockout)
    : IRequest<IReadOnlyList<IpAllowlistEntry>>, ITenantWrite, ICallerCommand;

/// <summary>Tells whether a caller at an address may use a tenant's routes, from this instance's cache; it checks no membership (the API's filter confirms a refusal).</summary>
public sealed record CheckClientAddress(Guid TenantId, IPAddress? Address) : IRequest<bool>, ITenantRead;

/// <summary>Caches each tenant's enforced allowlist while the change listener is connected; dropped on every instance by the tenant access channel
/// (plan, status, feature override or allowlist changes).</summary>
internal sealed class IpAllowlistCache(IClock clock)
    : NotifiedCache<Guid, TenantIpAllowlist>(clock, IFeatureOverrideDriver.TenantAccessChannel, (tenantId, _) => tenantId);

internal sealed class ReplaceIpAllowlistValidator : AbstractValidator<ReplaceIpAllowlist>
{
    public ReplaceIpAllowlistValidator()
    {
        RuleFor(c => c.Entries).NotNull().WithName("entries")
            .Must(e => e is null || e.Count <= IpAllowlistRules.MaxEntries).WithName("entries")
            .WithMessage($"An allowlist holds at most {IpAllowlistRules.MaxEntries} entries.");
        RuleForEach(c => c.Entries).ChildRules(entry =>
        {
            entry.RuleFor(e => e.Cidr).Must(c => IpAllowlistRules.Parse(c) is not null).WithName("cidr")
                .WithMessage("The cidr must be an IPv4 or IPv6 address or network such as 203.0.113.0/24 or 2001:db8::/32, with the host bits zero.");
            entry.RuleFor(e => e.Description).MaximumLength(IpAllowlistRules.MaxDescriptionLength).WithName("description");
        }).OverridePropertyName("entries");
    }
}

internal sealed class GetIpAllowlistHandler(TenantGate gate, IIpAllowlistDriver allowlists) : IRequestHandler<GetIpAllowlist, IReadOnlyList<IpAllowlistEntry>>
{
    public async Task<IReadOnlyList<IpAllowlistEntry>> Handle(GetIpAllowlist query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        return await allowlists.ListEntriesAsync(scope.Session, query.TenantId, cancellationToken);
    }
}

internal sealed class ReplaceIpAllowlistHandler(TenantGate gate, IpAllowlistChanges changes) : IRequestHandler<ReplaceIpAllowlist, IReadOnlyList<IpAllowlistEntry>>
{
    public async Task<IReadOnlyList<IpAllowlistEntry>> Handle(ReplaceIpAllowlist command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind is not CallerKind.User)
        {
            throw new ForbiddenException("Only the tenant's owners and admins change its IP allowlist.");
        }
        var entries = (command.Entries ?? []).Select(e => new IpAllowlistEntry(IpAllowlistRules.Parse(e.Cidr)!.Value.ToString(), e.Description)).ToList();
        var networks = entries.Select(e => IpAllowlistRules.Parse(e.Cidr)!.Value).ToList();
        if (entries.Count > 0 && !command.ConfirmLockout && !IpAllowlistRules.Matches(networks, command.CallerAddress))
        {
            throw new ConflictException(
                $"The allowlist does not include your address ({command.CallerAddress?.ToString() ?? "unknown"}); send \"confirm_lockout\": true to save it anyway.",
                "would_lock_out")
            {
                Extensions = new Dictionary<string, object?> { ["client_address"] = command.CallerAddress?.ToString() },
            };
        }
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var saved = await changes.ReplaceAsync(scope, command.Caller, entries, "ip_allowlist.replaced", cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return saved;
    }
}

internal sealed class CheckClientAddressHandler(IpAllowlistCache cache, IDbSessionFactory sessions, ITenantDriver tenants, IFeatureOverrideDriver features, IIpAllowlistDriver allowlists)
    : IRequestHandler<CheckClientAddress, bool>
{
    public async Task<bool> Handle(CheckClientAddress query, CancellationToken cancellationToken)
    {
        if (!cache.TryGet(query.TenantId, out var allowlist))
        {
            var generation = cache.Generation;
            await using var session = await sessions.OpenAsync(query.TenantId, null, cancellationToken);
            var tenant = await tenants.FetchTenantAsync(session, query.TenantId, cancellationToken);
            if (tenant is null)
            {
                // No such tenant: the route itself answers 404.
                return true;
            }
            var overrides = await features.ListFeatureOverridesAsync(session, tenant.Id, cancellationToken);
            var has = Features.EffectiveOf(EntitlementRules.PlanOf(tenant.Plan), tenant.Status, tenant.SuspendedReason, overrides).Contains(Features.IpAllowlist);
            var entries = has ? await allowlists.ListEntriesAsync(session, tenant.Id, cancellationToken) : [];
            allowlist = new TenantIpAllowlist(tenant.Id, entries.Count > 0,
                entries.Select(e => IpAllowlistRules.Parse(e.Cidr)).OfType<IPNetwork>().ToList());
            cache.Store(query.TenantId, allowlist, generation);
        }
        return allowlist.Allows(query.Address);
    }
}

/// <summary>Replaces a tenant's allowlist inside an open tenant scope: tenant row locked, entries written, audit row, change announced to every instance.</summary>
internal sealed class IpAllowlistChanges(ITenantDriver tenants, IIpAllowlistDriver allowlists, AuditTrail audit, TenantAccessChanges access, IClock clock)
{
    public async Task<IReadOnlyList<IpAllowlistEntry>> ReplaceAsync(
        TenantScope scope, Caller caller, IReadOnlyList<IpAllowlistEntry> entries, string auditAction, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        await tenants.LockTenantAsync(scope.Session, tenantId, cancellationToken);
        var before = await allowlists.ListEntriesAsync(scope.Session, tenantId, cancellationToken);
        await allowlists.ReplaceEntriesAsync(scope.Session, tenantId, entries, EntitlementRules.Actor(caller), clock.UtcNow, cancellationToken);
        await audit.RecordAsync(scope.Session, tenantId, caller, auditAction, "ip_allowlist", tenantId,
            new { entries = before }, new { entries }, cancellationToken);
        await access.AnnounceAsync(scope, cancellationToken);
        return entries;
    }
}
