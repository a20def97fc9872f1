using FluentValidation;
using MediatR;
using Platform.Engines.Pipeline;
using Platform.Models;

namespace Platform.Engines.Email;

/// <summary>Queues the trial-ending email to the tenant's billing email (or the given address); billing sends it (owner, operator or system).</summary>
public sealed record EnqueueTrialEndingEmail(Caller Caller, Guid TenantId, DateTimeOffset TrialEndsAt, string BillingUrl, string? To = null)
    : IRequest<Guid>, ITenantWrite, ICallerCommand;

internal sealed class EnqueueTrialEndingEmailValidator : AbstractValidator<EnqueueTrialEndingEmail>
{
    public EnqueueTrialEndingEmailValidator()
    {
        RuleFor(c => c.To).MaximumLength(254).EmailAddress().When(c => c.To is not null);
        RuleFor(c => c.BillingUrl).NotEmpty().MaximumLength(2000);
    }
}

internal sealed class EnqueueTrialEndingEmailHandler(TenantNotices notices) : IRequestHandler<EnqueueTrialEndingEmail, Guid>
{
    public Task<Guid> Handle(EnqueueTrialEndingEmail command, CancellationToken cancellationToken) =>
        notices.QueueAsync(command.TenantId, command.Caller, command.To, EmailTemplates.TrialEndingKind,
            (to, tenant) => EmailTemplates.TrialEnding(to, tenant.Name, command.TrialEndsAt, command.BillingUrl), cancellationToken);
}
