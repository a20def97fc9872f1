using FluentValidation;
using MediatR;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Email;

/// <summary>Queues the trial-ending email to the tenant's billing email (or the given address); billing sends it (owner, operator or system).</summary>
public sealed record EnqueueTrialEndingEmail(Caller Caller, Guid TenantId, DateTimeOffset TrialEndsAt, string BillingUrl, string? To = null)
    : IRequest<Guid>, ITenantCommand, ICallerCommand;

internal sealed class EnqueueTrialEndingEmailValidator : AbstractValidator<EnqueueTrialEndingEmail>
{
    public EnqueueTrialEndingEmailValidator()
    {
        RuleFor(c => c.To).MaximumLength(254).EmailAddress().When(c => c.To is not null);
        RuleFor(c => c.BillingUrl).NotEmpty().MaximumLength(2000);
    }
}

internal sealed class EnqueueTrialEndingEmailHandler(TenantGate gate, EmailOutbox emails, AuditTrail audit) : IRequestHandler<EnqueueTrialEndingEmail, Guid>
{
    public async Task<Guid> Handle(EnqueueTrialEndingEmail command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Owner, Access.Read, cancellationToken);
        var to = command.To ?? scope.Tenant.BillingEmail
            ?? throw ValidationFailedException.For("to", "The tenant has no billing email; name a recipient.");
        var email = EmailTemplates.TrialEnding(to, scope.Tenant.Name, command.TrialEndsAt, command.BillingUrl);
        var id = await emails.EnqueueAsync(scope.Session, command.TenantId, EmailTemplates.TrialEndingKind, email, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "email.queued", "outbox_message", id,
            null, new { kind = EmailTemplates.TrialEndingKind, to }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return id;
    }
}
