using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Domains;
using Platform.Drivers.Sessions;
using Platform.Engines.Hosting;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Domains;
using Platform.Models.Tenants;

namespace Platform.Engines.Domains;

/// <summary>Re-checks the TXT record of verified domains last checked more than Domains:RecheckIntervalSeconds ago (at most a batch): a record missing for
/// longer than Domains:GraceHours sends the domain back to pending, audited, and its tenant's owners and admins are emailed.</summary>
public sealed record RecheckDomains(int BatchSize = 100) : IRequest<RecheckResult>;

/// <summary>Counts what one re-check round did: domains checked, and those that went back to pending.</summary>
public sealed record RecheckResult(int Checked, int Lost);

internal sealed class RecheckDomainsHandler(
    IDbSessionFactory sessions, TenantGate gate, ICustomDomainDriver domains, IDnsTxtDriver dns, DomainChecks checks, DomainsOptions options, IClock clock)
    : IRequestHandler<RecheckDomains, RecheckResult>
{
    public async Task<RecheckResult> Handle(RecheckDomains command, CancellationToken cancellationToken)
    {
        IReadOnlyList<(Guid TenantId, Guid DomainId)> due;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await domains.ListDueForRecheckAsync(session, clock.UtcNow - TimeSpan.FromSeconds(options.RecheckIntervalSeconds), command.BatchSize, cancellationToken);
        }
        int done = 0, lost = 0;
        foreach (var (tenantId, domainId) in due)
        {
            CustomDomain? domain;
            await using (var read = await gate.EnterAsync(tenantId, Caller.System, TenantRole.Owner, Access.Read, cancellationToken))
            {
                domain = await domains.FetchDomainAsync(read.Session, tenantId, domainId, cancellationToken);
            }
            if (domain is not { Status: DomainStatus.Verified })
            {
                continue;
            }
            var lookup = await dns.LookupTxtAsync(domain.ChallengeName, cancellationToken);
            // Read access: a suspended tenant's domains are still re-checked (the check changes only the domain's own row).
            await using var scope = await gate.EnterAsync(tenantId, Caller.System, TenantRole.Owner, Access.Read, cancellationToken);
            var saved = await checks.RecordAsync(scope, Caller.System, domainId, lookup, cancellationToken);
            await scope.CommitAsync(cancellationToken);
            checks.AfterCommit(tenantId);
            done++;
            if (saved is { Status: DomainStatus.Pending })
            {
                lost++;
            }
        }
        return new RecheckResult(done, lost);
    }
}

/// <summary>Re-checks verified custom domains every Domains:RecheckIntervalSeconds; any number of copies may run (a check locks the domain's row).</summary>
internal sealed class DomainRecheckJob(IServiceScopeFactory scopes, DomainsOptions options, ILogger<DomainRecheckJob> logger) : PeriodicJob(scopes, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.RecheckIntervalSeconds);

    protected override bool WaitsForFirstTick => true;

    protected override string FailureMessage => "Custom domain re-check failed; retrying on the next tick";

    protected override async Task RunOnceAsync(IMediator mediator, CancellationToken cancellationToken) =>
        await mediator.Send(new RecheckDomains(), cancellationToken);
}
