using System.Text.Json;
using FluentValidation;
using MediatR;
using Platform.Drivers.Runs;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;
using Platform.Models.Runs;

namespace Platform.Engines.Runs;

/// <summary>Sets the tenant's config of a worker (admin or higher): enabled, a JSON object of settings, and per-worker runs per UTC day and tokens per run (null or -1: no per-worker limit).</summary>
public sealed record SetWorkerConfig(Caller Caller, Guid TenantId, string WorkerId, bool Enabled, string Config, int? MaxRunsPerDay, int? MaxTokensPerRun)
    : IRequest<WorkerConfigSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class SetWorkerConfigValidator : AbstractValidator<SetWorkerConfig>
{
    public SetWorkerConfigValidator()
    {
        RuleFor(c => c.Config).Must(Json.IsObject).MaximumLength(65_536).WithMessage("The config must be a JSON object of at most 64 KiB.");
        RuleFor(c => c.MaxRunsPerDay).GreaterThanOrEqualTo(-1).When(c => c.MaxRunsPerDay is not null);
        RuleFor(c => c.MaxTokensPerRun).GreaterThanOrEqualTo(-1).When(c => c.MaxTokensPerRun is not null);
    }
}

internal sealed class SetWorkerConfigHandler(TenantGate gate, IWorkerDriver workers, AuditTrail audit, IClock clock)
    : IRequestHandler<SetWorkerConfig, WorkerConfigSnapshot>
{
    public async Task<WorkerConfigSnapshot> Handle(SetWorkerConfig command, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        _ = await WorkerVisibility.FindVisibleAsync(workers, scope.Session, command.TenantId, command.WorkerId, cancellationToken) ?? throw new NotFoundException("worker");
        var before = await workers.FetchConfigAsync(scope.Session, command.TenantId, command.WorkerId, cancellationToken);
        if (command.Enabled && before is not { Enabled: true })
        {
            await WorkerSlots.RequireAsync(scope, workers, command.TenantId, command.WorkerId, cancellationToken);
        }
        var changes = new WorkerConfigChanges(
            command.Enabled, command.Config, NullWhenUnlimited(command.MaxRunsPerDay), NullWhenUnlimited(command.MaxTokensPerRun));
        var after = await workers.UpsertConfigAsync(scope.Session, command.TenantId, command.WorkerId, changes, clock.UtcNow, cancellationToken);
        // The config object may hold tenant secrets: the audit row says only whether it changed.
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "worker_config.updated", "worker_config", command.WorkerId,
            before is null ? null : new { before.Enabled, before.MaxRunsPerDay, before.MaxTokensPerRun },
            new { after.Enabled, after.MaxRunsPerDay, after.MaxTokensPerRun, ConfigChanged = before?.Config != after.Config },
            cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return after;
    }

    private static int? NullWhenUnlimited(int? limit) => limit is null or -1 ? null : limit;
}

/// <summary>Checks JSON text shapes for validators.</summary>
internal static class Json
{
    public static bool IsObject(string? json) => Is(json, JsonValueKind.Object);

    public static bool IsArray(string? json) => Is(json, JsonValueKind.Array);

    private static bool Is(string? json, JsonValueKind kind)
    {
        try
        {
            using var document = JsonDocument.Parse(json ?? "");
            return document.RootElement.ValueKind == kind;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
