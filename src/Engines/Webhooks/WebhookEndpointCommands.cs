using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.DataProtection;
using Platform.Drivers.Plans;
using Platform.Drivers.Tenants;
using Platform.Drivers.Webhooks;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.Webhooks;

/// <summary>Is a created endpoint, or one whose secret was just rotated, with its signing secret in clear: the only time it is shown.</summary>
public sealed record WebhookEndpointWithSecret(WebhookEndpointSnapshot Endpoint, string Secret);

/// <summary>Creates a webhook endpoint (admin): the URL, headers and event types are validated; the number of endpoints is the plan's
/// webhook_endpoints quota (overrides included), counted under the tenant row lock; the secret (generated, or the caller's) is returned once.</summary>
public sealed record CreateWebhookEndpoint(
    Caller Caller, Guid TenantId, string? Url, string? Description, IReadOnlyList<string>? EventTypes, bool Enabled, int? RateLimit,
    IReadOnlyDictionary<string, string?>? Headers, string? Secret) : IRequest<WebhookEndpointWithSecret>, ITenantWrite, ICallerCommand;

/// <summary>Lists a tenant's webhook endpoints in creation order (viewer and up), never with their secrets.</summary>
public sealed record ListWebhookEndpoints(Caller Caller, Guid TenantId, string? Cursor, int Limit)
    : IRequest<Page<WebhookEndpointSnapshot>>, ITenantRead, ICallerCommand;

/// <summary>Reads one webhook endpoint (viewer and up).</summary>
public sealed record GetWebhookEndpoint(Caller Caller, Guid TenantId, Guid EndpointId) : IRequest<WebhookEndpointSnapshot>, ITenantRead, ICallerCommand;

/// <summary>Changes an endpoint (admin); fields left out keep their value. Enabling it clears failing_since and disabled_reason.</summary>
public sealed record UpdateWebhookEndpoint(
    Caller Caller, Guid TenantId, Guid EndpointId, string? Url, string? Description, bool SetEventTypes, IReadOnlyList<string>? EventTypes,
    bool? Enabled, bool SetRateLimit, int? RateLimit, IReadOnlyDictionary<string, string?>? Headers)
    : IRequest<WebhookEndpointSnapshot>, ITenantWrite, ICallerCommand;

/// <summary>Deletes an endpoint with its queued deliveries and its log (admin).</summary>
public sealed record DeleteWebhookEndpoint(Caller Caller, Guid TenantId, Guid EndpointId) : IRequest<WebhookEndpointSnapshot>, ITenantWrite, ICallerCommand;

/// <summary>Gives an endpoint a new signing secret, returned once (admin); the former one keeps signing for Webhooks:SecretRotationGraceHours.</summary>
public sealed record RotateWebhookSecret(Caller Caller, Guid TenantId, Guid EndpointId) : IRequest<WebhookEndpointWithSecret>, ITenantWrite, ICallerCommand;

/// <summary>Holds the validation shared by creation and changes of an endpoint.</summary>
internal static class EndpointInput
{
    /// <summary>Returns the subscribed types without duplicates, or null (all); refuses unknown and unsubscribable names, naming them.</summary>
    public static IReadOnlyList<string>? EventTypes(IReadOnlyList<string>? names)
    {
        if (names is null)
        {
            return null;
        }
        if (names.Count == 0)
        {
            throw ValidationFailedException.For("event_types", "Name at least one event type, or leave event_types out (or null) for every type.");
        }
        var unknown = names.Where(n => !WebhookEventTypes.IsSubscribable(n)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            var shown = unknown.Take(10).Select(n => n is null ? "null" : $"'{(n.Length > 60 ? n[..60] + "…" : n)}'");
            throw ValidationFailedException.For("event_types",
                $"Unknown or not subscribable event types: {string.Join(", ", shown)}. See GET /v1/webhooks/event-types (webhook.test is sent only on request).");
        }
        return names.Distinct(StringComparer.Ordinal).ToList();
    }

    public static string Url(string? url, bool allowLoopback) =>
        WebhookEndpointRules.CheckUrl(url, allowLoopback) is { } problem ? throw ValidationFailedException.For("url", problem) : url!;

    public static IReadOnlyDictionary<string, string>? Headers(IReadOnlyDictionary<string, string?>? headers)
    {
        if (headers is null)
        {
            return null;
        }
        var problems = WebhookEndpointRules.CheckHeaders(headers);
        if (problems.Count > 0)
        {
            throw new ValidationFailedException(new Dictionary<string, string[]> { ["headers"] = [.. problems] });
        }
        return headers.ToDictionary(h => h.Key, h => h.Value!, StringComparer.Ordinal);
    }

    public static string Description(string? description) =>
        description is { Length: > WebhookEndpointRules.MaxDescriptionLength }
            ? throw ValidationFailedException.For("description", $"The description must be at most {WebhookEndpointRules.MaxDescriptionLength} characters.")
            : description?.Trim() ?? "";

    public static int? RateLimit(int? rateLimit) =>
        rateLimit is < WebhookEndpointRules.MinRateLimit or > WebhookEndpointRules.MaxRateLimit
            ? throw ValidationFailedException.For("rate_limit",
                $"The rate limit must be {WebhookEndpointRules.MinRateLimit}-{WebhookEndpointRules.MaxRateLimit} deliveries per second, or null for none.")
            : rateLimit;
}

internal sealed class CreateWebhookEndpointValidator : AbstractValidator<CreateWebhookEndpoint>
{
    public CreateWebhookEndpointValidator() =>
        RuleFor(c => c.Secret).Must(WebhookSecrets.IsValid)
            .WithMessage($"A secret must be {WebhookSecrets.Prefix} followed by standard base64 of {WebhookSecrets.MinKeyBytes}-{WebhookSecrets.MaxKeyBytes} random bytes.")
            .When(c => c.Secret is not null);
}

internal sealed class ListWebhookEndpointsValidator : AbstractValidator<ListWebhookEndpoints>
{
    public ListWebhookEndpointsValidator() => RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
}

internal sealed class CreateWebhookEndpointHandler(
    TenantGate gate, ITenantDriver tenants, IQuotaDriver quotas, IWebhookEndpointDriver endpoints, IDataProtectionProvider dataProtection,
    AuditTrail audit, WebhooksOptions options, IClock clock) : IRequestHandler<CreateWebhookEndpoint, WebhookEndpointWithSecret>
{
    public async Task<WebhookEndpointWithSecret> Handle(CreateWebhookEndpoint command, CancellationToken cancellationToken)
    {
        // Every field is checked before anything is written, so a refusal writes nothing.
        var url = EndpointInput.Url(command.Url, options.AllowLoopback);
        var description = EndpointInput.Description(command.Description);
        var eventTypes = EndpointInput.EventTypes(command.EventTypes);
        var rateLimit = EndpointInput.RateLimit(command.RateLimit);
        var headers = EndpointInput.Headers(command.Headers) ?? new Dictionary<string, string>();

        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        // The tenant row lock serialises concurrent creations of one tenant, so the count below stays true until this commits.
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var limit = await EffectiveLimitAsync(scope, cancellationToken);
        var count = await endpoints.CountEndpointsAsync(scope.Session, command.TenantId, cancellationToken);
        if (limit != PlanCatalog.Unlimited && count >= limit)
        {
            throw new QuotaExceededException(Quotas.WebhookEndpoints, limit, count, null);
        }
        var secret = command.Secret ?? WebhookSecrets.NewSecret();
        var now = clock.UtcNow;
        var endpoint = await endpoints.InsertEndpointAsync(scope.Session, new NewWebhookEndpoint(
            command.TenantId, Guid.CreateVersion7(now), url, description, eventTypes, command.Enabled, rateLimit, headers,
            WebhookSecrets.Protect(dataProtection, secret), now), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "webhook.endpoint_created", "webhook_endpoint", endpoint.Id, null,
            AuditView.Of(endpoint), cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new WebhookEndpointWithSecret(endpoint, secret);
    }

    /// <summary>Reads the tenant's effective webhook_endpoints quota: the plan's value, or the operator's override of it.</summary>
    private async Task<long> EffectiveLimitAsync(TenantScope scope, CancellationToken cancellationToken)
    {
        var plan = PlanCatalog.Find(scope.Tenant.Plan) ?? throw new InvalidOperationException($"The tenant's plan '{scope.Tenant.Plan}' is not in the catalogue.");
        var overrides = await quotas.ListOverridesAsync(scope.Session, scope.Tenant.Id, cancellationToken);
        var effective = Quotas.Apply(plan.Limits, overrides.ToDictionary(o => o.Quota, o => o.Value));
        return effective.WebhookEndpoints;
    }
}

internal sealed class ListWebhookEndpointsHandler(TenantGate gate, IWebhookEndpointDriver endpoints)
    : IRequestHandler<ListWebhookEndpoints, Page<WebhookEndpointSnapshot>>
{
    public async Task<Page<WebhookEndpointSnapshot>> Handle(ListWebhookEndpoints query, CancellationToken cancellationToken)
    {
        var after = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        var rows = await endpoints.ListEndpointsAsync(scope.Session, query.TenantId, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, e => e.Id);
    }
}

internal sealed class GetWebhookEndpointHandler(TenantGate gate, IWebhookEndpointDriver endpoints)
    : IRequestHandler<GetWebhookEndpoint, WebhookEndpointSnapshot>
{
    public async Task<WebhookEndpointSnapshot> Handle(GetWebhookEndpoint query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return await endpoints.FetchEndpointAsync(scope.Session, query.TenantId, query.EndpointId, cancellationToken)
            ?? throw new NotFoundException("webhook endpoint");
    }
}

internal sealed class UpdateWebhookEndpointHandler(TenantGate gate, IWebhookEndpointDriver endpoints, AuditTrail audit, WebhooksOptions options, IClock clock)
    : IRequestHandler<UpdateWebhookEndpoint, WebhookEndpointSnapshot>
{
    public async Task<WebhookEndpointSnapshot> Handle(UpdateWebhookEndpoint command, CancellationToken cancellationToken)
    {
        var changes = new WebhookEndpointChanges(
            command.Url is null ? null : EndpointInput.Url(command.Url, options.AllowLoopback),
            command.Description is null ? null : EndpointInput.Description(command.Description),
            command.SetEventTypes, command.SetEventTypes ? EndpointInput.EventTypes(command.EventTypes) : null,
            command.Enabled,
            command.SetRateLimit, command.SetRateLimit ? EndpointInput.RateLimit(command.RateLimit) : null,
            EndpointInput.Headers(command.Headers));

        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var before = await endpoints.FetchEndpointAsync(scope.Session, command.TenantId, command.EndpointId, cancellationToken)
            ?? throw new NotFoundException("webhook endpoint");
        var after = await endpoints.UpdateEndpointAsync(scope.Session, command.TenantId, command.EndpointId, changes, clock.UtcNow, cancellationToken)
            ?? throw new NotFoundException("webhook endpoint");
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "webhook.endpoint_updated", "webhook_endpoint", after.Id,
            AuditView.Of(before), AuditView.Of(after), cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return after;
    }
}

internal sealed class DeleteWebhookEndpointHandler(TenantGate gate, IWebhookEndpointDriver endpoints, AuditTrail audit)
    : IRequestHandler<DeleteWebhookEndpoint, WebhookEndpointSnapshot>
{
    public async Task<WebhookEndpointSnapshot> Handle(DeleteWebhookEndpoint command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var deleted = await endpoints.DeleteEndpointAsync(scope.Session, command.TenantId, command.EndpointId, cancellationToken)
            ?? throw new NotFoundException("webhook endpoint");
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "webhook.endpoint_deleted", "webhook_endpoint", deleted.Id,
            AuditView.Of(deleted), null, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return deleted;
    }
}

internal sealed class RotateWebhookSecretHandler(
    TenantGate gate, IWebhookEndpointDriver endpoints, IDataProtectionProvider dataProtection, AuditTrail audit, WebhooksOptions options, IClock clock)
    : IRequestHandler<RotateWebhookSecret, WebhookEndpointWithSecret>
{
    public async Task<WebhookEndpointWithSecret> Handle(RotateWebhookSecret command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        var secret = WebhookSecrets.NewSecret();
        var now = clock.UtcNow;
        var endpoint = await endpoints.RotateSecretAsync(scope.Session, command.TenantId, command.EndpointId, WebhookSecrets.Protect(dataProtection, secret),
            now.AddHours(options.SecretRotationGraceHours), now, cancellationToken) ?? throw new NotFoundException("webhook endpoint");
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "webhook.secret_rotated", "webhook_endpoint", endpoint.Id, null,
            new { endpoint.PreviousSecretExpiresAt }, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new WebhookEndpointWithSecret(endpoint, secret);
    }
}

/// <summary>Is what the audit log keeps of an endpoint: its settings, never a secret, and header names only (values may be credentials).</summary>
internal static class AuditView
{
    public static object Of(WebhookEndpointSnapshot e) => new
    {
        e.Url, e.Description, e.EventTypes, e.Enabled, e.RateLimit, HeaderNames = e.Headers.Keys.Order(StringComparer.Ordinal).ToList(),
    };
}
