using System.Text.Json.Nodes;
using FluentValidation;
using MediatR;
using Platform.Drivers.Runs;
using Platform.Drivers.Usage;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Usage;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Runs;
using Platform.Models.Tenants;
using Platform.Models.Usage;
using Platform.Models.Webhooks;

namespace Platform.Engines.Runs;

/// <summary>Records a running run's outcome (member or higher, key "runs:write"): prices it in cents, frees its slot, adds its tokens to the month and records the "tokens" and "runs" meters; a second completion is 409.</summary>
public sealed record CompleteRun(
    Caller Caller,
    Guid TenantId,
    Guid RunId,
    bool Success,
    string? Output,
    string? Error,
    long TotalTokens,
    long LatencyMs,
    string? Stages,
    int? Recoveries,
    string? PolicyViolations)
    : IRequest<RunSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class CompleteRunValidator : AbstractValidator<CompleteRun>
{
    public CompleteRunValidator()
    {
        RuleFor(c => c.TotalTokens).InclusiveBetween(0, 1_000_000_000_000);
        RuleFor(c => c.LatencyMs).InclusiveBetween(0, 31_536_000_000);
        RuleFor(c => c.Recoveries).GreaterThanOrEqualTo(0).When(c => c.Recoveries is not null);
        RuleFor(c => c.Error).MaximumLength(10_000);
        RuleFor(c => c.Output).MaximumLength(262_144).WithMessage("The output must be JSON of at most 256 KiB.");
        RuleFor(c => c.Stages).MaximumLength(65_536);
        RuleFor(c => c.PolicyViolations).Must(Json.IsArray).MaximumLength(65_536).When(c => c.PolicyViolations is not null)
            .WithMessage("The policy violations must be a JSON array of at most 64 KiB.");
    }
}

internal sealed class CompleteRunHandler(
    TenantGate gate, IRunDriver runs, WorkerRegistry registry, IUsageDriver usage, IRunAdmissionDriver admissions, AuditTrail audit, UsageAlerts alerts, WebhookEvents events, IClock clock)
    : IRequestHandler<CompleteRun, RunSnapshot>
{
    public async Task<RunSnapshot> Handle(CompleteRun command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Write, cancellationToken, keyPermission: "runs:write");
        var session = scope.Session;
        var run = await runs.FetchRunAsync(session, command.TenantId, command.RunId, cancellationToken) ?? throw new NotFoundException("run");
        if (run.Status != RunStatus.Running)
        {
            throw AlreadyCompleted(run.Status);
        }
        var worker = await registry.FindAsync(session, run.WorkerId, cancellationToken) ?? throw new NotFoundException("worker");
        // A run that used more tokens than its config's max_tokens_per_run fails, whatever the worker reported; its tokens still count and cost.
        var overBudget = run.MaxTokensPerRun is { } budget && command.TotalTokens > budget;
        // A successful completion's output must match the worker's output schema; one that does not ends the run failed with the JSON
        // pointers of the mismatch (ADR 0717): the work was done and its tokens count and cost, but its result is not what the worker promised.
        var outputErrors = command.Success ? registry.CheckOutput(worker, command.Output) : new Dictionary<string, string[]>();
        var errors = new List<string>();
        if (overBudget)
        {
            errors.Add($"The run used {command.TotalTokens} tokens, more than max_tokens_per_run ({run.MaxTokensPerRun}).");
        }
        if (outputErrors.Count > 0)
        {
            // The pointers come from the caller's JSON: a NUL in a property name is escaped, PostgreSQL cannot store it (ADR 0180).
            var mismatch = string.Join("; ", outputErrors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))
                .Replace("\0", "\\u0000", StringComparison.Ordinal);
            errors.Add("The output does not match the worker's output schema: " + (mismatch.Length > 4000 ? mismatch[..4000] + "…" : mismatch) + ".");
        }
        if (command.Error is not null && errors.Count > 0)
        {
            errors.Add(command.Error);
        }
        var violations = WithTokenBudgetViolation(command.PolicyViolations, run.MaxTokensPerRun, command.TotalTokens);
        if (outputErrors.Count > 0)
        {
            var list = violations is null ? new JsonArray() : JsonNode.Parse(violations)!.AsArray();
            list.Add("output_schema");
            violations = list.ToJsonString();
        }
        var outcome = new RunOutcome(
            command.Success && !overBudget && outputErrors.Count == 0, command.Output,
            errors.Count > 0 ? string.Join(" ", errors) : command.Error,
            command.TotalTokens, command.LatencyMs, worker.CostCents(command.TotalTokens),
            command.Stages, command.Recoveries, violations, now);
        // Conditional on status = 'running': of two racing completions (or a completion and the timeout job) one wins.
        var completed = await runs.CompleteRunAsync(session, command.TenantId, command.RunId, outcome, cancellationToken)
            ?? throw AlreadyCompleted(null);
        await audit.RecordAsync(session, command.TenantId, command.Caller, "run.completed", "run", run.Id,
            new { Status = run.Status.ToWire() },
            new { Status = completed.Status.ToWire(), completed.TotalTokens, completed.LatencyMs, completed.CostCents }, cancellationToken);
        await events.EmitAsync(session, command.TenantId,
            completed.Status == RunStatus.Succeeded ? WebhookEventTypes.RunCompleted : WebhookEventTypes.RunFailed, RunEventData.From(completed), cancellationToken);
        // The hot rows come last, each held only until the commit: the month's rollups, then the key's and the tenant's
        // slots in one statement (key before tenant, the admission's order); the run created with a key gives its key
        // slot back, whoever completes it.
        var usageResult = await usage.InsertEventsAsync(session, command.TenantId,
        [
            // Attributed to the run's worker and, for a run a key started, the key (ADR 0641).
            new UsageEvent(Meters.Runs, 1, $"run:{run.Id}:runs", now, null, run.WorkerId, run.ApiKeyId),
            new UsageEvent(Meters.Tokens, command.TotalTokens, $"run:{run.Id}:tokens", now, null, run.WorkerId, run.ApiKeyId),
        ], now, cancellationToken);
        await admissions.ReleaseAsync(session, command.TenantId, run.ApiKeyId, run.Id, command.TotalTokens, now, Meters.DayStart(now), Meters.MonthStart(now), cancellationToken);
        // Only when the tokens crossed 80, 90 or 100 percent of the quota does this add statements (a notice, an email, an audit row).
        await alerts.QueueCrossedAsync(scope, usageResult.Rollups, now, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return completed;
    }

    private static ConflictException AlreadyCompleted(RunStatus? status) =>
        new(status is null ? "The run has already been completed." : $"The run has already been completed ({status.Value.ToWire()}).", "run_already_completed");

    /// <summary>Adds "max_tokens_per_run" to the reported violations when the run used more tokens than its worker config allows per run.</summary>
    private static string? WithTokenBudgetViolation(string? violations, int? maxTokensPerRun, long totalTokens)
    {
        if (maxTokensPerRun is null || totalTokens <= maxTokensPerRun)
        {
            return violations;
        }
        var list = violations is null ? new JsonArray() : JsonNode.Parse(violations)!.AsArray();
        list.Add("max_tokens_per_run");
        return list.ToJsonString();
    }
}
