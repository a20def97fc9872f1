using System.Security.Cryptography;
using MediatR;
using Platform.Drivers.Domains;
using Platform.Drivers.Email;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Email;
using Platform.Engines.Pipeline;
using Platform.Engines.Plans;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Domains;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Domains;

/// <summary>Lists a tenant's custom domains (any member).</summary>
public sealed record ListDomains(Caller Caller, Guid TenantId) : IRequest<IReadOnlyList<CustomDomain>>, ITenantRead, ICallerCommand;

/// <summary>Reads one of a tenant's custom domains (any member); another tenant's id is 404.</summary>
public sealed record GetDomain(Caller Caller, Guid TenantId, Guid DomainId) : IRequest<CustomDomain>, ITenantRead, ICallerCommand;

/// <summary>Adds a pending custom domain (owner or admin): the name normalised, unique across all tenants (409 domain_taken), at most
/// Domains:MaxPerTenant per tenant (409 domain_limit_reached); the answer carries the token to publish as TXT at _platform-challenge.&lt;name&gt;.</summary>
public sealed record AddDomain(Caller Caller, Guid TenantId, string? Name) : IRequest<CustomDomain>, ITenantWrite, ICallerCommand;

/// <summary>Removes a custom domain (owner or admin); its name is free again and stops reaching the tenant at once.</summary>
public sealed record DeleteDomain(Caller Caller, Guid TenantId, Guid DomainId) : IRequest<Unit>, ITenantWrite, ICallerCommand;

/// <summary>Checks a custom domain's TXT record now (owner or admin) and records the outcome: verified when the token is there, failed when the name
/// servers answered without it, unchanged (with the error) when they gave no answer.</summary>
public sealed record VerifyDomain(Caller Caller, Guid TenantId, Guid DomainId) : IRequest<CustomDomain>, ITenantWrite, ICallerCommand;

internal sealed class ListDomainsHandler(TenantGate gate, ICustomDomainDriver domains) : IRequestHandler<ListDomains, IReadOnlyList<CustomDomain>>
{
    public async Task<IReadOnlyList<CustomDomain>> Handle(ListDomains query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return await domains.ListDomainsAsync(scope.Session, query.TenantId, cancellationToken);
    }
}

internal sealed class GetDomainHandler(TenantGate gate, ICustomDomainDriver domains) : IRequestHandler<GetDomain, CustomDomain>
{
    public async Task<CustomDomain> Handle(GetDomain query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return await domains.FetchDomainAsync(scope.Session, query.TenantId, query.DomainId, cancellationToken) ?? throw new NotFoundException("domain");
    }
}

internal sealed class AddDomainHandler(TenantGate gate, ITenantDriver tenants, ICustomDomainDriver domains, AuditTrail audit, DomainsOptions options, IClock clock)
    : IRequestHandler<AddDomain, CustomDomain>
{
    public async Task<CustomDomain> Handle(AddDomain command, CancellationToken cancellationToken)
    {
        var name = DomainNames.Normalise(command.Name, out var problem) ?? throw ValidationFailedException.For("name", problem!);
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        if (await domains.CountDomainsAsync(scope.Session, command.TenantId, cancellationToken) >= options.MaxPerTenant)
        {
            throw new ConflictException($"The tenant already has {options.MaxPerTenant} domains, the most it may hold.", "domain_limit_reached");
        }
        var token = "platform-verification=" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var added = await domains.InsertDomainAsync(scope.Session,
                new NewCustomDomain(Guid.CreateVersion7(), command.TenantId, name, token, EntitlementRules.Actor(command.Caller), clock.UtcNow), cancellationToken)
            ?? throw new ConflictException($"The domain {name} is already registered.", "domain_taken");
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "domain.added", "custom_domain", added.Id, null, new { name }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return added;
    }
}

internal sealed class DeleteDomainHandler(TenantGate gate, ICustomDomainDriver domains, AuditTrail audit, DomainHostCache hosts) : IRequestHandler<DeleteDomain, Unit>
{
    public async Task<Unit> Handle(DeleteDomain command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var domain = await domains.LockDomainAsync(scope.Session, command.TenantId, command.DomainId, cancellationToken) ?? throw new NotFoundException("domain");
        await domains.DeleteDomainAsync(scope.Session, command.TenantId, command.DomainId, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "domain.removed", "custom_domain", domain.Id,
            new { name = domain.Name, status = domain.Status.ToWire() }, null, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        hosts.Invalidate(command.TenantId);
        return Unit.Value;
    }
}

internal sealed class VerifyDomainHandler(TenantGate gate, ICustomDomainDriver domains, IDnsTxtDriver dns, DomainChecks checks) : IRequestHandler<VerifyDomain, CustomDomain>
{
    public async Task<CustomDomain> Handle(VerifyDomain command, CancellationToken cancellationToken)
    {
        CustomDomain domain;
        await using (var read = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken))
        {
            domain = await domains.FetchDomainAsync(read.Session, command.TenantId, command.DomainId, cancellationToken) ?? throw new NotFoundException("domain");
        }
        // The DNS query runs outside any transaction: a slow name server holds no connection or lock.
        var lookup = await dns.LookupTxtAsync(domain.ChallengeName, cancellationToken);
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var checkedDomain = await checks.RecordAsync(scope, command.Caller, command.DomainId, lookup, cancellationToken) ?? throw new NotFoundException("domain");
        await scope.CommitAsync(cancellationToken);
        checks.AfterCommit(command.TenantId);
        return checkedDomain;
    }
}

/// <summary>Applies one DNS observation to a domain inside an open tenant scope: the lifecycle's next status, the missing-since clock and its grace
/// period, the audit row of every status change, and the admins' notice when a verified domain goes back to pending.</summary>
internal sealed class DomainChecks(
    ICustomDomainDriver domains, AuditTrail audit, EmailOutbox emails, EmailOptions emailOptions, DomainsOptions options,
    DomainHostCache hosts, IClock clock)
{
    /// <summary>Records the check and returns the domain as it is now, or null when it no longer exists.</summary>
    public async Task<CustomDomain?> RecordAsync(TenantScope scope, Caller caller, Guid domainId, TxtLookup lookup, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var domain = await domains.LockDomainAsync(scope.Session, tenantId, domainId, cancellationToken);
        if (domain is null)
        {
            return null;
        }
        var now = clock.UtcNow;
        var found = lookup.Answered && lookup.Texts.Any(t => string.Equals(t.Trim(), domain.VerificationToken, StringComparison.Ordinal));
        // The clock of a missing record starts at the first definite answer without the token and stops when the token is back.
        DateTimeOffset? missingSince = found ? null : !lookup.Answered ? domain.MissingSince : domain.MissingSince ?? now;
        var check = !lookup.Answered ? DomainCheck.Unanswered
            : found ? DomainCheck.Found
            : domain.Status == DomainStatus.Verified && now - missingSince!.Value >= TimeSpan.FromHours(options.GraceHours) ? DomainCheck.MissingPastGrace
            : DomainCheck.Missing;
        var next = DomainLifecycle.Next(domain.Status, check);
        var error = check switch
        {
            DomainCheck.Found => null,
            DomainCheck.Unanswered => lookup.Error,
            _ => $"No TXT record {domain.ChallengeName} holds the token.",
        };
        var saved = await domains.RecordCheckAsync(scope.Session, tenantId, domainId, next, now, next == DomainStatus.Verified ? missingSince : null, error,
            next == DomainStatus.Verified && domain.Status != DomainStatus.Verified ? now : null, cancellationToken);
        if (next != domain.Status)
        {
            var action = (domain.Status, next) switch
            {
                (_, DomainStatus.Verified) => "domain.verified",
                (DomainStatus.Verified, DomainStatus.Pending) => "domain.verification_lost",
                _ => "domain.verification_failed",
            };
            await audit.RecordAsync(scope.Session, tenantId, caller, action, "custom_domain", domainId,
                new { status = domain.Status.ToWire() }, new { status = next.ToWire(), error }, cancellationToken);
            if (action == "domain.verification_lost")
            {
                var (tenantName, recipients) = await domains.AdminEmailsAsync(scope.Session, tenantId, cancellationToken);
                var link = $"{emailOptions.LinkBaseUrl.TrimEnd('/')}/v1/tenants/{tenantId}/domains/{domainId}";
                foreach (var to in recipients)
                {
                    await emails.EnqueueAsync(scope.Session, tenantId, EmailTemplates.DomainVerificationLostKind,
                        EmailTemplates.DomainVerificationLost(to, tenantName, domain.Name, domain.ChallengeName, domain.MissingSince ?? now, link), cancellationToken);
                }
            }
        }
        return saved;
    }

    /// <summary>Drops this instance's cached host resolutions of the tenant once the change committed (the others drop them on the NOTIFY of the
    /// domains' trigger).</summary>
    public void AfterCommit(Guid tenantId) => hosts.Invalidate(tenantId);
}
