using FluentValidation;
using MediatR;
using Platform.Drivers.Credits;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Tenants;

namespace Platform.Engines.Credits;

/// <summary>Takes credits from the tenant's balance for usage (member, key runs:write), or refuses with 402 insufficient_credits when short; the reference (a run id) is debited at most once.</summary>
public sealed record DebitCredits(Caller Caller, Guid TenantId, long Amount, string? Reference)
    : IRequest<CreditTransactionSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class DebitCreditsValidator : AbstractValidator<DebitCredits>
{
    public DebitCreditsValidator()
    {
        RuleFor(c => c.Amount).InclusiveBetween(1, 1_000_000_000);
        RuleFor(c => c.Reference).MaximumLength(200);
    }
}

internal sealed class DebitCreditsHandler(TenantGate gate, ICreditDriver credits, AuditTrail audit, CreditsOptions options, WebhookEvents events, IClock clock)
    : IRequestHandler<DebitCredits, CreditTransactionSnapshot>
{
    public async Task<CreditTransactionSnapshot> Handle(DebitCredits command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Write, cancellationToken, keyPermission: "runs:write");
        // One conditional update decides: under any concurrency the balance never goes below zero.
        var row = await CreditLedger.DebitAsync(credits, audit, options, events, scope, command.Caller, command.Amount, command.Reference, now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return row;
    }
}
