using FluentValidation;
using MediatR;
using Platform.Engines.Pipeline;
using Platform.Models;

namespace Platform.Engines.Email;

/// <summary>Queues a usage alert at 80, 90 or 100 percent of a quota to the tenant's billing email (or the given address); usage sends it.</summary>
public sealed record EnqueueUsageAlertEmail(Caller Caller, Guid TenantId, string Quota, int Percent, long Used, long Limit, string UsageUrl, string? To = null)
    : IRequest<Guid>, ITenantWrite, ICallerCommand;

internal sealed class EnqueueUsageAlertEmailValidator : AbstractValidator<EnqueueUsageAlertEmail>
{
    public EnqueueUsageAlertEmailValidator()
    {
        RuleFor(c => c.To).MaximumLength(254).EmailAddress().When(c => c.To is not null);
        RuleFor(c => c.Quota).NotEmpty().MaximumLength(100);
        RuleFor(c => c.Percent).Must(p => EmailTemplates.UsageAlertThresholds.Contains(p)).WithMessage("The percent must be 80, 90 or 100.");
        RuleFor(c => c.Limit).GreaterThan(0);
        RuleFor(c => c.Used).GreaterThanOrEqualTo(0);
        RuleFor(c => c.UsageUrl).NotEmpty().MaximumLength(2000);
    }
}

internal sealed class EnqueueUsageAlertEmailHandler(TenantNotices notices) : IRequestHandler<EnqueueUsageAlertEmail, Guid>
{
    public Task<Guid> Handle(EnqueueUsageAlertEmail command, CancellationToken cancellationToken) =>
        notices.QueueAsync(command.TenantId, command.Caller, command.To, EmailTemplates.UsageAlertKind,
            (to, tenant) => EmailTemplates.UsageAlert(to, tenant.Name, command.Quota, command.Percent, command.Used, command.Limit, command.UsageUrl), cancellationToken);
}
