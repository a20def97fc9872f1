using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Drivers.Domains;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Hosting;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Domains;
using Platform.Models.Tenants;

namespace Platform.Engines.Domains;

/// <summary>Re-checks the TXT record of verified domains last checked more than Domains:RecheckIntervalSeconds ago (at most a batch): a record missing for
/// longer than Domains:GraceHours sends the domain back to pending, audited, and its tenant's owners and admins are emailed. With Domains:TlsProbeAddress
/// set, each domain still verified is then probed at the proxy and its ssl_status recorded (issued, renewing, expired or failed).</summary>
public sealed record RecheckDomains(int BatchSize = 100) : IRequest<RecheckResult>;

/// <summary>Counts what one re-check round did: domains checked, those that went back to pending, and those whose certificate was probed.</summary>
public sealed record RecheckResult(int Checked, int Lost, int TlsProbed = 0);

internal sealed class RecheckDomainsHandler(
    IDbSessionFactory sessions, TenantGate gate, ICustomDomainDriver domains, IDnsTxtDriver dns, ITlsProbeDriver tls, AuditTrail audit, DomainChecks checks,
    DomainsOptions options, IClock clock)
    : IRequestHandler<RecheckDomains, RecheckResult>
{
    public async Task<RecheckResult> Handle(RecheckDomains command, CancellationToken cancellationToken)
    {
        IReadOnlyList<(Guid TenantId, Guid DomainId)> due;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await domains.ListDueForRecheckAsync(session, clock.UtcNow - TimeSpan.FromSeconds(options.RecheckIntervalSeconds), command.BatchSize, cancellationToken);
        }
        int done = 0, lost = 0, probed = 0;
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
            if (saved is { Status: DomainStatus.Verified } && tls.Enabled)
            {
                await ProbeAsync(saved, cancellationToken);
                probed++;
            }
        }
        return new RecheckResult(done, lost, probed);
    }

    /// <summary>Shakes hands with the proxy for the domain (outside any transaction) and records ssl_status from the served certificate (ADR 0731);
    /// a change of status is audited domain.ssl_changed.</summary>
    private async Task ProbeAsync(CustomDomain domain, CancellationToken cancellationToken)
    {
        var probe = await tls.ProbeAsync(domain.Name, cancellationToken);
        var now = clock.UtcNow;
        var status = SslStatusRule.Of(probe, now, TimeSpan.FromDays(options.TlsRenewBeforeDays));
        await using var scope = await gate.EnterAsync(domain.TenantId, Caller.System, TenantRole.Owner, Access.Read, cancellationToken);
        var before = await domains.LockDomainAsync(scope.Session, domain.TenantId, domain.Id, cancellationToken);
        if (before is null)
        {
            return;
        }
        await domains.RecordSslAsync(scope.Session, domain.TenantId, domain.Id, status, probe.NotAfter, now, cancellationToken);
        if (before.SslStatus != status)
        {
            await audit.RecordAsync(scope.Session, domain.TenantId, Caller.System, "domain.ssl_changed", "custom_domain", domain.Id,
                new { ssl_status = before.SslStatus.ToWire() }, new { ssl_status = status.ToWire(), expires_at = probe.NotAfter, error = probe.Error }, cancellationToken);
        }
        await scope.CommitAsync(cancellationToken);
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
