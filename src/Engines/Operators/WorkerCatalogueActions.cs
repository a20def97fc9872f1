using System.Text.Json;
using Platform.Drivers.Runs;
using Platform.Drivers.Sessions;
using Platform.Engines.Audit;
using Platform.Engines.Runs;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;
using Platform.Models.Runs;

namespace Platform.Engines.Operators;

/// <summary>Is the input of worker.register: the first version's definition and whether every tenant sees the worker.</summary>
public sealed record RegisterWorkerInput(WorkerDefinition Definition, bool IsPublic);

/// <summary>Is the input of worker.status_set: the new status and visibility (null keeps the current one).</summary>
public sealed record WorkerStatusInput(WorkerStatus? Status, bool? IsPublic);

/// <summary>Registers a worker in the catalogue (super_admin; the input is its first version's <see cref="WorkerDefinition"/> and
/// visibility). Not reversible: a worker that runs have named is retired, never removed (ADR 0600).</summary>
internal sealed class RegisterWorkerAction(IWorkerDriver workers, WorkerRegistry registry, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.RegisterWorker;
    public string TargetType => "worker";
    public OperatorRole MinimumRole => OperatorRole.SuperAdmin;
    public bool Reversible => false;
    public bool TenantScoped => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A worker belongs to no tenant.");

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var (definition, isPublic) = context.Input as RegisterWorkerInput ?? throw new InvalidOperationException("A worker definition is required.");
        WorkerDefinitions.Check(definition);
        if (!await workers.TryInsertWorkerAsync(context.Session, definition, isPublic, clock.UtcNow, cancellationToken))
        {
            throw new ConflictException($"A worker with the id '{definition.Id}' exists; publish a new version of it instead.", "worker_exists");
        }
        await workers.NotifyCatalogueChangedAsync(context.Session, definition.Id, cancellationToken);
        context.AfterCommit(() => { registry.Invalidate(); return Task.CompletedTask; });
        return new { worker_id = definition.Id, version = definition.Version, is_public = isPublic };
    }

    public Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        throw new ConflictException("Registering a worker cannot be reversed; retire it instead.", "action_irreversible");
}

/// <summary>Publishes a new version of a worker (super_admin): its definition becomes the current one for the next runs; a run keeps
/// the version it started with. Reversing it makes the version before current again, unless another version was published since.</summary>
internal sealed class PublishWorkerVersionAction(IWorkerDriver workers, WorkerRegistry registry, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.PublishWorkerVersion;
    public string TargetType => "worker";
    public OperatorRole MinimumRole => OperatorRole.SuperAdmin;
    public bool Reversible => true;
    public bool TenantScoped => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A worker belongs to no tenant.");

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var definition = context.Input as WorkerDefinition ?? throw new InvalidOperationException("A worker definition is required.");
        WorkerDefinitions.Check(definition);
        var current = await workers.LockWorkerAsync(context.Session, context.TargetId, cancellationToken) ?? throw new NotFoundException("worker");
        if (!WorkerDefinition.IsNewer(definition.Version, current.Version))
        {
            throw new ConflictException(
                $"The version must come after the current version {current.Version}.", "version_not_newer")
            { Extensions = new Dictionary<string, object?> { ["current_version"] = current.Version } };
        }
        if (!await workers.TryPublishVersionAsync(context.Session, definition, clock.UtcNow, cancellationToken))
        {
            throw new ConflictException($"Version {definition.Version} of this worker was published before.", "version_exists");
        }
        await workers.NotifyCatalogueChangedAsync(context.Session, definition.Id, cancellationToken);
        context.AfterCommit(() => { registry.Invalidate(); return Task.CompletedTask; });
        return new { worker_id = definition.Id, version = definition.Version, previous_version = current.Version };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var published = details.RootElement.GetProperty("version").GetString()!;
        var previous = details.RootElement.GetProperty("previous_version").GetString()!;
        var current = await workers.LockWorkerAsync(context.Session, original.TargetId, cancellationToken) ?? throw new NotFoundException("worker");
        if (current.Version != published)
        {
            throw new ConflictException($"Version {current.Version} was published since; publish again instead of reversing.", "action_superseded");
        }
        await workers.RestoreVersionAsync(context.Session, original.TargetId, previous, clock.UtcNow, cancellationToken);
        await workers.NotifyCatalogueChangedAsync(context.Session, original.TargetId, cancellationToken);
        context.AfterCommit(() => { registry.Invalidate(); return Task.CompletedTask; });
    }
}

/// <summary>Sets a worker's status (active, deprecated, retired) and whether every tenant sees it (super_admin); reversing it restores both.</summary>
internal sealed class SetWorkerStatusAction(IWorkerDriver workers, WorkerRegistry registry, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.SetWorkerStatus;
    public string TargetType => "worker";
    public OperatorRole MinimumRole => OperatorRole.SuperAdmin;
    public bool Reversible => true;
    public bool TenantScoped => false;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("A worker belongs to no tenant.");

    public async Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken)
    {
        var (status, isPublic) = context.Input as WorkerStatusInput ?? new WorkerStatusInput(null, null);
        var current = await workers.LockWorkerAsync(context.Session, context.TargetId, cancellationToken) ?? throw new NotFoundException("worker");
        var next = status ?? current.Status;
        var nextPublic = isPublic ?? current.IsPublic;
        await workers.SetStatusAsync(context.Session, current.Id, next, nextPublic, clock.UtcNow, cancellationToken);
        await workers.NotifyCatalogueChangedAsync(context.Session, current.Id, cancellationToken);
        context.AfterCommit(() => { registry.Invalidate(); return Task.CompletedTask; });
        return new
        {
            worker_id = current.Id,
            status = next.ToWire(),
            is_public = nextPublic,
            previous_status = current.Status.ToWire(),
            previous_is_public = current.IsPublic,
        };
    }

    public async Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken)
    {
        using var details = JsonDocument.Parse(original.Details);
        var root = details.RootElement;
        _ = await workers.LockWorkerAsync(context.Session, original.TargetId, cancellationToken) ?? throw new NotFoundException("worker");
        await workers.SetStatusAsync(context.Session, original.TargetId, WireNames.Parse<WorkerStatus>(root.GetProperty("previous_status").GetString()!),
            root.GetProperty("previous_is_public").GetBoolean(), clock.UtcNow, cancellationToken);
        await workers.NotifyCatalogueChangedAsync(context.Session, original.TargetId, cancellationToken);
        context.AfterCommit(() => { registry.Invalidate(); return Task.CompletedTask; });
    }
}

/// <summary>Gives one tenant a private worker (support+; the target is "tenant id:worker id"); reversing it takes the worker back.</summary>
internal sealed class GrantWorkerAccessAction(IWorkerDriver workers, AuditTrail audit, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.GrantWorkerAccess;
    public string TargetType => "worker_access";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(WorkerAccess.Parse(targetId).TenantId);

    public Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken) =>
        WorkerAccess.SetAsync(workers, audit, context, true, clock.UtcNow, cancellationToken);

    public Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        WorkerAccess.SetAsync(workers, audit, context, false, clock.UtcNow, cancellationToken);
}

/// <summary>Takes a private worker from one tenant (support+; the target is "tenant id:worker id"); reversing it gives it back.</summary>
internal sealed class RevokeWorkerAccessAction(IWorkerDriver workers, AuditTrail audit, IClock clock) : IFounderActionType
{
    public string Name => FounderActionTypes.RevokeWorkerAccess;
    public string TargetType => "worker_access";
    public OperatorRole MinimumRole => OperatorRole.Support;
    public bool Reversible => true;

    public Task<Guid> FindTenantAsync(IDbSession unscopedSession, string targetId, CancellationToken cancellationToken) =>
        Task.FromResult(WorkerAccess.Parse(targetId).TenantId);

    public Task<object?> ApplyAsync(FounderActionContext context, CancellationToken cancellationToken) =>
        WorkerAccess.SetAsync(workers, audit, context, false, clock.UtcNow, cancellationToken);

    public Task ReverseAsync(FounderActionContext context, FounderActionSnapshot original, CancellationToken cancellationToken) =>
        WorkerAccess.SetAsync(workers, audit, context, true, clock.UtcNow, cancellationToken);
}

/// <summary>Holds what granting and revoking a private worker share: the target's form and the change with its tenant audit row.</summary>
public static class WorkerAccess
{
    public static string Target(Guid tenantId, string workerId) => $"{tenantId}:{workerId}";

    public static (Guid TenantId, string WorkerId) Parse(string targetId)
    {
        var colon = targetId.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && Guid.TryParse(targetId.AsSpan(0, colon), out var tenantId)
            ? (tenantId, targetId[(colon + 1)..])
            : throw new NotFoundException("tenant");
    }

    internal static async Task<object?> SetAsync(IWorkerDriver workers, AuditTrail audit, FounderActionContext context, bool granted, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (tenantId, workerId) = Parse(context.TargetId);
        var session = context.Scope.Session;
        var worker = await workers.FetchWorkerAsync(session, workerId, cancellationToken) ?? throw new NotFoundException("worker");
        var changed = granted
            ? await workers.GrantAccessAsync(session, tenantId, worker.Id, now, cancellationToken)
            : await workers.RevokeAccessAsync(session, tenantId, worker.Id, cancellationToken);
        if (changed)
        {
            await audit.RecordAsync(session, tenantId, context.Caller, granted ? "worker.access_granted" : "worker.access_revoked", "worker", worker.Id,
                null, new { worker_id = worker.Id, granted }, cancellationToken);
        }
        return new { worker_id = worker.Id, tenant_id = tenantId, granted, changed };
    }
}

/// <summary>Checks a worker definition an operator publishes; every failure is named by its wire field.</summary>
internal static class WorkerDefinitions
{
    public static void Check(WorkerDefinition d)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string field, string message) => errors[field] = [message];
        if (d.Id.Length is 0 or > 63 || !System.Text.RegularExpressions.Regex.IsMatch(d.Id, "^[a-z][a-z0-9_-]{0,62}$"))
        {
            Fail("id", "The id must be 1 to 63 lowercase letters, digits, '_' or '-', starting with a letter.");
        }
        if (!WorkerDefinition.TryParseVersion(d.Version, out _))
        {
            Fail("version", "The version must be major.minor.patch, such as 1.2.0.");
        }
        if (string.IsNullOrWhiteSpace(d.Name) || d.Name.Length > 200)
        {
            Fail("name", "The name must be 1 to 200 characters.");
        }
        if (d.Description.Length > 2000)
        {
            Fail("description", "The description must be at most 2,000 characters.");
        }
        if (d.BaseCentsPerRun < 0)
        {
            Fail("base_cents_per_run", "The price must be 0 or more.");
        }
        if (d.CentsPer1kTokens < 0)
        {
            Fail("cents_per_1k_tokens", "The price must be 0 or more.");
        }
        if (d.CreditsPerRun < 0)
        {
            Fail("credits_per_run", "The credits must be 0 or more.");
        }
        if (d.TokensPerRunEstimate < 0)
        {
            Fail("tokens_per_run_estimate", "The estimate must be 0 or more.");
        }
        if (!Runs.Json.IsObject(d.DefaultConfig) || d.DefaultConfig.Length > 65_536)
        {
            Fail("default_config", "The default config must be a JSON object of at most 64 KiB.");
        }
        CheckSchema(d.InputSchema, "input_schema", Fail);
        CheckSchema(d.OutputSchema, "output_schema", Fail);
        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }
    }

    private static void CheckSchema(string? schema, string field, Action<string, string> fail)
    {
        if (schema is null)
        {
            return;
        }
        if (schema.Length > 65_536 || WorkerSchemas.Build(schema) is null)
        {
            fail(field, "The schema must be a JSON Schema (2020-12) object or boolean of at most 64 KiB.");
        }
    }
}
