using MediatR;
using Platform.Drivers.Credits;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Credits;
using Platform.Models;
using Platform.Models.Credits;

namespace Platform.Engines.Billing;

/// <summary>Part of the billing lifecycle job (billing grants the plan's credits; Credits itself depends on no billing code): starts the current UTC month on the credit accounts of up to MaxTenants tenants that have not had it yet: the unused part of last month's
/// grant expires (Credits:ExpireUnusedAtPeriodEnd) and the plan's monthly credits are granted as quota_monthly, once per month and tenant however
/// many copies run (tenants claimed with SKIP LOCKED; the grant is a conditional update under the account's row lock). Returns how many tenants it started.</summary>
public sealed record GrantMonthlyCredits(int MaxTenants = 500) : IRequest<int>;

internal sealed class GrantMonthlyCreditsHandler(
    IDbSessionFactory sessions, TenantSweep sweep, ICreditDriver credits, AuditTrail audit, CreditsOptions options, IClock clock)
    : IRequestHandler<GrantMonthlyCredits, int>
{
    public async Task<int> Handle(GrantMonthlyCredits command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var period = CreditPackCatalog.PeriodOf(now);
        IReadOnlyList<Guid> due;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            due = await credits.ListTenantsDueForGrantAsync(lookup, period, command.MaxTenants, cancellationToken);
        }
        return await sweep.ForEachClaimedAsync(due, async scope =>
            (await CreditLedger.OpenPeriodAsync(credits, audit, options, scope, now, cancellationToken)).Started, cancellationToken);
    }
}
