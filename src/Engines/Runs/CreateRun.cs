using FluentValidation;
using MediatR;
using Platform.Drivers.ApiKeys;
using Platform.Drivers.Credits;
using Platform.Drivers.Runs;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Credits;
using Platform.Engines.Hosting;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Engines.Webhooks;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Runs;
using Platform.Models.Tenants;
using Platform.Models.Usage;

namespace Platform.Engines.Runs;

/// <summary>Admits a worker run (member or higher, key "runs:write") or refuses it with 429 (402 insufficient_credits for a worker that costs credits): every limit is a conditional UPDATE in one transaction; a retry names its parent run. The worker must be visible to the tenant and not retired, the input must match its input schema (422 by JSON pointer) and its token estimate must fit the config's max_tokens_per_run (409).</summary>
public sealed record CreateRun(Caller Caller, Guid TenantId, string WorkerId, string Task, string? Input, Guid? ParentRunId)
    : IRequest<RunSnapshot>, ITenantWrite, ICallerCommand;

internal sealed class CreateRunValidator : AbstractValidator<CreateRun>
{
    public CreateRunValidator()
    {
        RuleFor(c => c.WorkerId).NotEmpty().MaximumLength(63);
        RuleFor(c => c.Task).NotEmpty().MaximumLength(10_000);
        RuleFor(c => c.Input).MaximumLength(262_144).WithMessage("The input must be JSON of at most 256 KiB.");
    }
}

internal sealed class CreateRunHandler(
    TenantGate gate, IWorkerDriver workers, WorkerRegistry registry, IRunDriver runs, IRunAdmissionDriver admissions, IApiKeyDriver keys, ICreditDriver credits,
    AuditTrail audit, WebhookEvents events, IClock clock, CreditsOptions creditsOptions)
    : IRequestHandler<CreateRun, RunSnapshot>
{
    public async Task<RunSnapshot> Handle(CreateRun command, CancellationToken cancellationToken)
    {
        // Admission latency (run_admission_duration_seconds, by outcome): the whole command, commit included.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var run = await AdmitAsync(command, cancellationToken);
            outcome = "admitted";
            return run;
        }
        catch (PlatformException e)
        {
            outcome = e.Code;
            throw;
        }
        finally
        {
            // The warm-up's admissions (rolled back, ADR 0815) are not the service's.
            if (!WarmUpSandbox.Active)
            {
                Telemetry.RunAdmissionDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
                    new KeyValuePair<string, object?>("outcome", outcome));
            }
        }
    }

    private async Task<RunSnapshot> AdmitAsync(CreateRun command, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        var dayStart = Meters.DayStart(now);
        var monthStart = Meters.MonthStart(now);
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Member, Access.Write, cancellationToken, keyPermission: "runs:write");
        var session = scope.Session;
        var worker = await registry.FindAsync(session, command.WorkerId, cancellationToken);
        // A private worker the tenant was not given answers exactly as a worker that does not exist.
        if (worker is null || (!worker.IsPublic && !await workers.HasAccessAsync(session, command.TenantId, worker.Id, cancellationToken)))
        {
            throw ValidationFailedException.For("worker_id", "There is no worker with this id.");
        }
        if (worker.Status == WorkerStatus.Retired)
        {
            throw new ConflictException($"The worker '{worker.Id}' is retired and admits no run.", "worker_retired");
        }
        var inputErrors = registry.CheckInput(worker, command.Input);
        if (inputErrors.Count > 0)
        {
            throw new ValidationFailedException(inputErrors);
        }

        // The run row and its audit row go first, so that the hot counter rows below are locked only for their one
        // statement and the commit; a refusal rolls all of it back.
        var run = await runs.InsertRunAsync(session, new NewRun(
            command.TenantId, Guid.CreateVersion7(now), command.WorkerId, command.Task, command.Input, command.ParentRunId,
            command.Caller.ActorType, command.Caller.ActorId, command.Caller.ApiKeyId, null, now, worker.Version), cancellationToken)
            ?? throw ValidationFailedException.For("parent_run_id", "There is no run with this id.");
        await audit.RecordAsync(session, command.TenantId, command.Caller, "run.created", "run", run.Id, null,
            new { run.WorkerId, run.ParentRunId, run.Attempt, Status = run.Status.ToWire() }, cancellationToken);
        // One statement counts the run on its stripe of the worker config, the key and the tenant, in that order (completion and the
        // timeout job lock run, key, tenant), so admissions and releases cannot deadlock; no row is shared by every admission (ADR 0750).
        var keyId = command.Caller.Kind == CallerKind.ApiKey ? command.Caller.ApiKeyId : null;
        var admission = await admissions.TryAdmitAsync(session, command.TenantId, command.WorkerId, keyId, run.Id, now, dayStart, monthStart, cancellationToken);
        if (admission.WorkerMissing)
        {
            // A first run of a worker enables it, within max_workers like an explicit enable (ADR 0771): only this path pays the lock and count.
            await WorkerSlots.RequireAsync(scope, workers, command.TenantId, command.WorkerId, cancellationToken);
            await workers.InsertImplicitConfigAsync(session, command.TenantId, command.WorkerId, now, cancellationToken);
            admission = await admissions.TryAdmitAsync(session, command.TenantId, command.WorkerId, keyId, run.Id, now, dayStart, monthStart, cancellationToken);
        }
        if (!admission.WorkerCounted)
        {
            throw await WorkerRefusalAsync(session, command, now, cancellationToken);
        }
        if (!admission.KeyReserved)
        {
            throw await KeyRefusalAsync(session, command, keyId!.Value, cancellationToken);
        }
        if (!admission.TenantReserved)
        {
            throw await TenantRefusalAsync(session, command.TenantId, now, cancellationToken);
        }
        if (admission.MaxTokensPerRun is { } budget)
        {
            // The worker config's per-run budget: a worker expected to use more is not started (the rollback undoes the counters).
            if (worker.TokensPerRunEstimate is { } estimate && estimate > budget)
            {
                throw new ConflictException(
                    $"The worker '{worker.Id}' is expected to use {estimate} tokens per run, more than this tenant's max_tokens_per_run of {budget}.",
                    "max_tokens_per_run_exceeded");
            }
            run = await runs.SetTokenBudgetAsync(session, command.TenantId, run.Id, budget, cancellationToken);
        }
        if (worker.CreditsPerRun > 0)
        {
            // Same transaction as the admission: short of credits -> 402 insufficient_credits and the rollback writes nothing.
            // Taken after the tenant row (tenant -> credit account), the order plan changes use too.
            await CreditLedger.DebitAsync(credits, audit, creditsOptions, events, scope, command.Caller, worker.CreditsPerRun, "run:" + run.Id, now, cancellationToken);
        }
        await scope.CommitAsync(cancellationToken);
        return run;
    }

    private async Task<Exception> WorkerRefusalAsync(IDbSession session, CreateRun command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var config = await workers.FetchConfigAsync(session, command.TenantId, command.WorkerId, cancellationToken);
        if (config is null || !config.Enabled)
        {
            return new ForbiddenException($"The worker '{command.WorkerId}' is disabled for this tenant.", "worker_disabled");
        }
        var runsToday = config.LastRunResetAt < Meters.DayStart(now) ? 0 : config.RunsToday;
        return new QuotaExceededException("worker_max_runs_per_day", config.MaxRunsPerDay ?? -1, runsToday, Meters.NextDayStart(now));
    }

    private async Task<Exception> KeyRefusalAsync(IDbSession session, CreateRun command, Guid keyId, CancellationToken cancellationToken)
    {
        // Read only to explain the refusal that the conditional UPDATE already decided.
        var key = await keys.FetchApiKeyAsync(session, command.TenantId, keyId, cancellationToken);
        if (key is null || key.RevokedAt is not null || key.FrozenAt is not null)
        {
            return new UnauthorizedException("The API key has been revoked or frozen.");
        }
        if (key.AllowedWorkers is { } allowed && !allowed.Contains(command.WorkerId, StringComparer.Ordinal))
        {
            return new ForbiddenException($"This API key may not run the worker '{command.WorkerId}'.", "worker_not_allowed");
        }
        // Concurrency has no reset time: a slot frees when one of the key's runs completes or times out.
        return new QuotaExceededException("key_concurrent_runs", key.MaxConcurrentRuns ?? -1, key.ActiveRuns, null);
    }

    private async Task<Exception> TenantRefusalAsync(IDbSession session, Guid tenantId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Read only to explain the refusal that the conditional UPDATE already decided.
        var c = await runs.FetchRunCountersAsync(session, tenantId, Meters.DayStart(now), Meters.MonthStart(now), cancellationToken)
            ?? throw new NotFoundException("tenant");
        if (WireNames.Parse<TenantStatus>(c.Status).BlocksWrites())
        {
            return new TenantSuspendedException();
        }
        if (c.MaxRunsPerDay != PlanQuota.Unlimited && c.RunsToday >= c.MaxRunsPerDay)
        {
            return new QuotaExceededException("max_runs_per_day", c.MaxRunsPerDay, c.RunsToday, Meters.NextDayStart(now));
        }
        if (c.MaxTokensPerMonth != PlanQuota.Unlimited && c.TokensThisMonth >= c.MaxTokensPerMonth)
        {
            return new QuotaExceededException("max_tokens_per_month", c.MaxTokensPerMonth, c.TokensThisMonth, Meters.NextMonthStart(now));
        }
        // Concurrency has no reset time: a slot frees when a run completes or times out.
        return new QuotaExceededException("max_concurrent_runs", c.MaxConcurrentRuns, c.ActiveRuns, null);
    }
}

/// <summary>Names the value of a quota that means no limit.</summary>
internal static class PlanQuota
{
    public const int Unlimited = Platform.Models.Plans.PlanCatalog.Unlimited;
}
