using FluentValidation;
using MediatR;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Email;

/// <summary>Queues a usage alert at 80, 90 or 100 percent of a quota to the tenant's billing email (or the given address); usage sends it.</summary>
public sealed record EnqueueUsageAlertEmail(Caller Caller, Guid TenantId, string Quota, int Percent, long Used, long Limit, string UsageUrl, string? To = null)
    : IRequest<Guid>, ITenantCommand, ICallerCommand;

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

internal sealed class EnqueueUsageAlertEmailHandler(TenantGate gate, EmailOutbox emails, AuditTrail audit) : IRequestHandler<EnqueueUsageAlertEmail, Guid>
{
    public async Task<Guid> Handle(EnqueueUsageAlertEmail command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var to = command.To ?? scope.Tenant.BillingEmail
            ?? throw ValidationFailedException.For("to", "The tenant has no billing email; name a recipient.");
        var email = EmailTemplates.UsageAlert(to, scope.Tenant.Name, command.Quota, command.Percent, command.Used, command.Limit, command.UsageUrl);
        var id = await emails.EnqueueAsync(scope.Session, command.TenantId, EmailTemplates.UsageAlertKind, email, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "email.queued", "outbox_message", id,
            null, new { kind = EmailTemplates.UsageAlertKind, to }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return id;
    }
}
