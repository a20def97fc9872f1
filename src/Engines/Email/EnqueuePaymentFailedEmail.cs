using FluentValidation;
using MediatR;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Email;

/// <summary>Queues the payment-failed email to the tenant's billing email (or the given address); billing sends it.</summary>
public sealed record EnqueuePaymentFailedEmail(Caller Caller, Guid TenantId, long AmountCents, string Currency, string BillingUrl, string? To = null)
    : IRequest<Guid>, ITenantCommand, ICallerCommand;

internal sealed class EnqueuePaymentFailedEmailValidator : AbstractValidator<EnqueuePaymentFailedEmail>
{
    public EnqueuePaymentFailedEmailValidator()
    {
        RuleFor(c => c.To).MaximumLength(254).EmailAddress().When(c => c.To is not null);
        RuleFor(c => c.AmountCents).GreaterThan(0);
        RuleFor(c => c.Currency).NotEmpty().Length(3);
        RuleFor(c => c.BillingUrl).NotEmpty().MaximumLength(2000);
    }
}

internal sealed class EnqueuePaymentFailedEmailHandler(TenantGate gate, EmailOutbox emails, AuditTrail audit) : IRequestHandler<EnqueuePaymentFailedEmail, Guid>
{
    public async Task<Guid> Handle(EnqueuePaymentFailedEmail command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var to = command.To ?? scope.Tenant.BillingEmail
            ?? throw ValidationFailedException.For("to", "The tenant has no billing email; name a recipient.");
        var email = EmailTemplates.PaymentFailed(to, scope.Tenant.Name, command.AmountCents, command.Currency, command.BillingUrl);
        var id = await emails.EnqueueAsync(scope.Session, command.TenantId, EmailTemplates.PaymentFailedKind, email, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "email.queued", "outbox_message", id,
            null, new { kind = EmailTemplates.PaymentFailedKind, to }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return id;
    }
}
