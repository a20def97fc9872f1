using FluentValidation;
using MediatR;
using Platform.Engines.Pipeline;
using Platform.Models;

namespace Platform.Engines.Email;

/// <summary>Queues the payment-failed email to the tenant's billing email (or the given address); billing sends it.</summary>
public sealed record EnqueuePaymentFailedEmail(Caller Caller, Guid TenantId, long AmountCents, string Currency, string BillingUrl, string? To = null)
    : IRequest<Guid>, ITenantWrite, ICallerCommand;

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

internal sealed class EnqueuePaymentFailedEmailHandler(TenantNotices notices) : IRequestHandler<EnqueuePaymentFailedEmail, Guid>
{
    public Task<Guid> Handle(EnqueuePaymentFailedEmail command, CancellationToken cancellationToken) =>
        notices.QueueAsync(command.TenantId, command.Caller, command.To, EmailTemplates.PaymentFailedKind,
            (to, tenant) => EmailTemplates.PaymentFailed(to, tenant.Name, command.AmountCents, command.Currency, command.BillingUrl), cancellationToken);
}
