using FluentValidation;
using MediatR;
using Platform.Drivers.Credits;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Credits;

/// <summary>Adds credits to a tenant's balance (purchase, refund, adjustment, plan upgrade); only the system and operators grant, and a reference is applied once per type.</summary>
public sealed record GrantCredits(Caller Caller, Guid TenantId, long Amount, CreditTransactionType Type, string? Reference, string? StripePaymentId = null)
    : IRequest<CreditTransactionSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class GrantCreditsValidator : AbstractValidator<GrantCredits>
{
    public GrantCreditsValidator()
    {
        RuleFor(c => c.Amount).InclusiveBetween(1, 1_000_000_000);
        RuleFor(c => c.Type).Must(t => t != CreditTransactionType.Usage).WithMessage("Usage is a debit; grant another type.");
        RuleFor(c => c.Reference).MaximumLength(200);
    }
}

internal sealed class GrantCreditsHandler(TenantGate gate, ICreditDriver credits, AuditTrail audit, CreditsOptions options, IClock clock)
    : IRequestHandler<GrantCredits, CreditTransactionSnapshot>
{
    public async Task<CreditTransactionSnapshot> Handle(GrantCredits command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind is not (CallerKind.System or CallerKind.Operator))
        {
            throw new ForbiddenException("Only the system or an operator grants credits.");
        }
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Write, cancellationToken);
        await CreditLedger.OpenAccountAsync(credits, audit, options, scope, now, cancellationToken);
        var balance = await credits.CreditAsync(scope.Session, command.TenantId, command.Amount, now, cancellationToken)
            ?? throw new NotFoundException("credit account");
        var row = await CreditLedger.AppendAsync(credits, scope, command.Type, command.Amount, balance, command.Reference,
            command.StripePaymentId, now, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "credits.granted", "credit_account", command.TenantId,
            null, new { type = command.Type.ToWire(), amount = command.Amount, balance_after = balance, reference = command.Reference }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return row;
    }
}
