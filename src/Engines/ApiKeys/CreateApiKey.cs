using FluentValidation;
using MediatR;
using Platform.Drivers.ApiKeys;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;
using Platform.Models.Webhooks;

namespace Platform.Engines.ApiKeys;

/// <summary>Creates an API key (admin; a service key, which outlives its creator's membership, owner only): the secret is returned once; the tenant's max_api_keys is admitted by one conditional update. Limits are per minute (requests) and concurrent runs.</summary>
public sealed record CreateApiKey(
    Caller Caller,
    Guid TenantId,
    string Name,
    IReadOnlyList<string> Permissions,
    IReadOnlyList<string>? AllowedWorkers,
    int? RateLimitRpm,
    int? MaxConcurrentRuns,
    DateTimeOffset? ExpiresAt,
    bool ServiceKey = false) : IRequest<CreatedApiKey>, ITenantWrite, ICallerCommand;

internal sealed class CreateApiKeyValidator : AbstractValidator<CreateApiKey>
{
    public CreateApiKeyValidator(IClock clock)
    {
        RuleFor(c => c.Name).NotEmpty().MaximumLength(100);
        RuleFor(c => c.Permissions).NotEmpty().WithMessage("Name at least one permission.");
        RuleForEach(c => c.Permissions).Must(ApiKeyPermissions.IsKnown)
            .WithMessage($"Each permission must be one of: {string.Join(", ", ApiKeyPermissions.All.Order())}.")
            .OverridePropertyName("permissions");
        RuleFor(c => c.Permissions).Must(p => p.Distinct().Count() == p.Count).WithMessage("A permission is named twice.")
            .When(c => c.Permissions is not null);
        RuleFor(c => c.AllowedWorkers!).Must(w => w.Count <= 100).WithMessage("At most 100 workers.")
            .When(c => c.AllowedWorkers is not null);
        RuleForEach(c => c.AllowedWorkers).NotEmpty().MaximumLength(100).OverridePropertyName("allowed_workers");
        RuleFor(c => c.RateLimitRpm).InclusiveBetween(1, 1_000_000).When(c => c.RateLimitRpm is not null);
        RuleFor(c => c.MaxConcurrentRuns).InclusiveBetween(1, 100_000).When(c => c.MaxConcurrentRuns is not null);
        RuleFor(c => c.ExpiresAt).Must(e => e > clock.UtcNow).WithMessage("The expiry must be in the future.")
            .When(c => c.ExpiresAt is not null);
    }
}

internal sealed class CreateApiKeyHandler(TenantGate gate, IApiKeyDriver keys, AuditTrail audit, WebhookEvents events, IClock clock)
    : IRequestHandler<CreateApiKey, CreatedApiKey>
{
    public async Task<CreatedApiKey> Handle(CreateApiKey command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        if (command.ServiceKey && scope.Role != TenantRole.Owner)
        {
            throw new ForbiddenException("Only an owner can create a service key.");
        }
        var slot = await keys.TryReserveKeySlotAsync(scope.Session, command.TenantId, cancellationToken);
        if (!slot.Admitted)
        {
            throw new QuotaExceededException(Quotas.MaxApiKeys, slot.Limit, slot.Active, null);
        }
        var secret = ApiKeySecrets.NewSecret();
        var key = await keys.InsertApiKeyAsync(scope.Session, new NewApiKey(
            command.TenantId, Guid.CreateVersion7(), command.Name.Trim(), ApiKeySecrets.DisplayPrefix(secret), ApiKeySecrets.Hash(secret),
            command.Permissions, command.AllowedWorkers, command.RateLimitRpm, command.MaxConcurrentRuns, command.ExpiresAt,
            command.Caller.UserId, command.ServiceKey, clock.UtcNow), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "api_key.created", "api_key", key.Id, null,
            new { key.Name, key.Prefix, key.Permissions, key.AllowedWorkers, key.RateLimitRpm, key.MaxConcurrentRuns, key.ExpiresAt, key.ServiceKey },
            cancellationToken);
        await events.EmitAsync(scope.Session, command.TenantId, WebhookEventTypes.ApiKeyCreated, ApiKeyEventData.From(key), cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new CreatedApiKey(key, secret);
    }
}
