using Platform.Engines.Audit;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Email;
using Platform.Models.Tenants;

namespace Platform.Engines.Email;

/// <summary>Queues a notice email to a tenant (to the named recipient, else its billing email) with its audit row, in one transaction.</summary>
internal sealed class TenantNotices(TenantGate gate, EmailOutbox emails, AuditTrail audit)
{
    public async Task<Guid> QueueAsync(
        Guid tenantId, Caller caller, string? to, string kind, Func<string, TenantSnapshot, EmailContent> render, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(tenantId, caller, TenantRole.Owner, Access.Read, cancellationToken);
        var recipient = to ?? scope.Tenant.BillingEmail
            ?? throw ValidationFailedException.For("to", "The tenant has no billing email; name a recipient.");
        var id = await QueueInScopeAsync(scope, caller, recipient, kind, render, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return id;
    }

    /// <summary>Queues the notice inside an open tenant scope (the caller commits), so it is sent if and only if the change that caused it commits.</summary>
    public async Task<Guid> QueueInScopeAsync(
        TenantScope scope, Caller caller, string recipient, string kind, Func<string, TenantSnapshot, EmailContent> render, CancellationToken cancellationToken)
    {
        var tenantId = scope.Tenant.Id;
        var id = await emails.EnqueueAsync(scope.Session, tenantId, kind, render(recipient, scope.Tenant), cancellationToken);
        await audit.RecordAsync(scope.Session, tenantId, caller, "email.queued", "outbox_message", id,
            null, new { kind, to = recipient }, cancellationToken);
        return id;
    }
}
