using MediatR;
using Platform.Drivers.Credits;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Tenants;

namespace Platform.Engines.Credits;

/// <summary>Reads the tenant's credit account (admin or higher), opening it and adding the month's plan grant on first need (a write: the grant changes the ledger).</summary>
public sealed record GetCredits(Caller Caller, Guid TenantId) : IRequest<CreditAccountSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class GetCreditsHandler(TenantGate gate, ICreditDriver credits, AuditTrail audit, CreditsOptions options, IClock clock)
    : IRequestHandler<GetCredits, CreditAccountSnapshot>
{
    public async Task<CreditAccountSnapshot> Handle(GetCredits query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var account = await CreditLedger.OpenAccountAsync(credits, audit, options, scope, clock.UtcNow, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return account;
    }
}
