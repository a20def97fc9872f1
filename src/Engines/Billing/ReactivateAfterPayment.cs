using MediatR;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Records that the tenant paid what it owed (an operator marking an invoice paid offline, or the system): a past_due subscription becomes active
/// and a tenant that is past_due or suspended by billing becomes active again; an operator's suspension stays. Operators and the system only.</summary>
public sealed record ReactivateAfterPayment(Caller Caller, Guid TenantId) : IRequest<TenantSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class ReactivateAfterPaymentHandler(TenantGate gate, BillingLifecycle lifecycle, IClock clock)
    : IRequestHandler<ReactivateAfterPayment, TenantSnapshot>
{
    public async Task<TenantSnapshot> Handle(ReactivateAfterPayment command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind is not (CallerKind.System or CallerKind.Operator))
        {
            throw new ForbiddenException("Only operators and the system record payments.");
        }
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var result = await lifecycle.RecordPaymentAsync(scope, command.Caller, clock.UtcNow, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return result;
    }
}
