using System.Text.Json;
using System.Text.Json.Serialization;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Runs;
using Platform.Engines.Operators;
using Platform.Engines.Runs;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Runs;

namespace Platform.Api.Operators;

/// <summary>Maps the operators' worker catalogue (ADR 0600): list and read workers with their versions, register a worker, publish a
/// version, set status and visibility, and give or take a private worker for one tenant. Every change is a founder action with a reason.</summary>
public sealed class WorkerCatalogueApi : IEndpointGroup
{
    private const string WorkerNotFound = "`not_found`: no worker has this id.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapOperatorGroup("/v1/admin/workers", "Workers");
        admin.MapGet("/", ListAsync)
            .WithName("listCatalogueWorkers")
            .WithSummary("List every worker of the catalogue, private, deprecated and retired ones included")
            .WithDescription("Any operator (viewer or higher).");
        admin.MapGet("/{worker_id}", GetAsync)
            .WithName("getCatalogueWorker")
            .WithSummary("Get a worker with every version published")
            .WithDescription("Any operator (viewer or higher).")
            .Refuses(StatusCodes.Status404NotFound, WorkerNotFound);
        admin.MapPost("/", RegisterAsync)
            .WithName("registerWorker")
            .WithSummary("Register a worker with its first version, as a founder action")
            .WithDescription("Needs the super_admin operator role and a reason code. Not reversible: retire a worker instead. "
                + "input_schema and output_schema are JSON Schemas (2020-12); a run's input is checked against input_schema at admission.")
            .RefusesBody("`validation_failed`: a field is missing or not valid (`errors` names it), such as a schema that is not a JSON Schema.")
            .Refuses(StatusCodes.Status409Conflict, "`worker_exists`: a worker has this id.");
        admin.MapPost("/{worker_id}/versions", PublishAsync)
            .WithName("publishWorkerVersion")
            .WithSummary("Publish a new version of a worker, as a reversible founder action")
            .WithDescription("Needs the super_admin operator role and a reason code. Fields left out keep the current version's value (send `true` as a "
                + "schema to accept any input). The next runs use it; a running run keeps its version. Reversing restores the version before.")
            .RefusesBody("`validation_failed`: a field is not valid (`errors` names it).")
            .Refuses(StatusCodes.Status404NotFound, WorkerNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`version_not_newer`: the version does not come after the current one; `version_exists`: it was published before.");
        admin.MapPost("/{worker_id}/status", SetStatusAsync)
            .WithName("setWorkerStatus")
            .WithSummary("Deprecate, retire or reactivate a worker, or make it public or private, as a reversible founder action")
            .WithDescription("Needs the super_admin operator role and a reason code. A retired worker admits no run (409 worker_retired); a deprecated one "
                + "still runs and is listed as deprecated; a private one is seen only by the tenants given it.")
            .RefusesBody("`validation_failed`: status is not active, deprecated or retired, or reason_code is missing (`errors` names it).")
            .Refuses(StatusCodes.Status404NotFound, WorkerNotFound);
        admin.MapPut("/{worker_id}/tenants/{tenant_id:guid}", GrantAsync)
            .WithName("grantWorkerAccess")
            .WithSummary("Give one tenant a private worker, as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code; written to the tenant's audit log.")
            .RefusesBody()
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no such worker or tenant.");
        admin.MapDelete("/{worker_id}/tenants/{tenant_id:guid}", RevokeAsync)
            .WithName("revokeWorkerAccess")
            .WithSummary("Take a private worker from one tenant, as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code (in the body or as ?reason_code=).")
            .RefusesBody()
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no such worker or tenant.");
    }

    private static async Task<Ok<ListResponse<CatalogueWorkerResponse>>> ListAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        _ = http.ToOperatorCaller();
        var workers = await mediator.Send(new ListWorkers(), ct);
        return TypedResults.Ok(new ListResponse<CatalogueWorkerResponse>(workers.Select(w => CatalogueWorkerResponse.From(w, null)).ToList(), null));
    }

    private static async Task<Ok<CatalogueWorkerResponse>> GetAsync(string worker_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var detail = await mediator.Send(new GetWorkerDetail(http.ToOperatorCaller(), worker_id), ct);
        return TypedResults.Ok(CatalogueWorkerResponse.From(detail.Worker, detail.Versions));
    }

    private static async Task<Created<WorkerChangeResponse>> RegisterAsync(WorkerDefinitionRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var caller = http.ToOperatorCaller();
        var definition = body.ToDefinition(body.Id ?? "", null);
        var action = await mediator.Send(new PerformFounderAction(caller, FounderActionTypes.RegisterWorker, definition.Id,
            body.ReasonCode ?? "", body.ReasonNote, new RegisterWorkerInput(definition, body.IsPublic ?? true)), ct);
        var detail = await mediator.Send(new GetWorkerDetail(caller, definition.Id), ct);
        return TypedResults.Created($"/v1/admin/workers/{definition.Id}",
            new WorkerChangeResponse(CatalogueWorkerResponse.From(detail.Worker, detail.Versions), FounderActionResponse.From(action)));
    }

    private static async Task<Created<WorkerChangeResponse>> PublishAsync(string worker_id, WorkerDefinitionRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var caller = http.ToOperatorCaller();
        var current = await mediator.Send(new GetWorkerDetail(caller, worker_id), ct);
        if (body.Id is not null && body.Id != worker_id)
        {
            throw ValidationFailedException.For("id", "The id cannot change; leave it out.");
        }
        var definition = body.ToDefinition(worker_id, current.Worker);
        var action = await mediator.Send(new PerformFounderAction(caller, FounderActionTypes.PublishWorkerVersion, worker_id,
            body.ReasonCode ?? "", body.ReasonNote, definition), ct);
        var detail = await mediator.Send(new GetWorkerDetail(caller, worker_id), ct);
        return TypedResults.Created($"/v1/admin/workers/{worker_id}",
            new WorkerChangeResponse(CatalogueWorkerResponse.From(detail.Worker, detail.Versions), FounderActionResponse.From(action)));
    }

    private static async Task<Ok<WorkerChangeResponse>> SetStatusAsync(string worker_id, WorkerStatusRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var caller = http.ToOperatorCaller();
        WorkerStatus? status = null;
        if (body.Status is not null)
        {
            status = WireNames.TryParse<WorkerStatus>(body.Status, out var parsed)
                ? parsed
                : throw ValidationFailedException.For("status", "The status must be active, deprecated or retired.");
        }
        var action = await mediator.Send(new PerformFounderAction(caller, FounderActionTypes.SetWorkerStatus, worker_id,
            body.ReasonCode ?? "", body.ReasonNote, new WorkerStatusInput(status, body.IsPublic)), ct);
        var detail = await mediator.Send(new GetWorkerDetail(caller, worker_id), ct);
        return TypedResults.Ok(new WorkerChangeResponse(CatalogueWorkerResponse.From(detail.Worker, detail.Versions), FounderActionResponse.From(action)));
    }

    private static async Task<Ok<FounderActionResponse>> GrantAsync(string worker_id, Guid tenant_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(FounderActionResponse.From(await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.GrantWorkerAccess,
            WorkerAccess.Target(tenant_id, worker_id), body.ReasonCode ?? "", body.ReasonNote), ct)));

    private static async Task<Ok<FounderActionResponse>> RevokeAsync(
        string worker_id, Guid tenant_id, string? reason_code, string? reason_note, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(FounderActionResponse.From(await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.RevokeWorkerAccess,
            WorkerAccess.Target(tenant_id, worker_id), reason_code ?? "", reason_note), ct)));
}

/// <summary>Is a worker definition as an operator sends it; on a new version, a field left out keeps the current version's value.</summary>
public sealed record WorkerDefinitionRequest(
    string? Id = null, string? Version = null, string? Name = null, string? Description = null, long? BaseCentsPerRun = null,
    [property: JsonPropertyName("cents_per_1k_tokens")] long? CentsPer1kTokens = null, long? CreditsPerRun = null,
    JsonElement? DefaultConfig = null, JsonElement? InputSchema = null, JsonElement? OutputSchema = null, int? TokensPerRunEstimate = null,
    bool? IsPublic = null, string? ReasonCode = null, string? ReasonNote = null)
{
    public WorkerDefinition ToDefinition(string id, WorkerSnapshot? current)
    {
        if (current is null && Name is null)
        {
            throw ValidationFailedException.For("name", "The name is required.");
        }
        if (Version is null)
        {
            throw ValidationFailedException.For("version", "The version is required (major.minor.patch).");
        }
        return new WorkerDefinition(
            id, Version, Name ?? current!.Name, Description ?? current?.Description ?? "", BaseCentsPerRun ?? current?.BaseCentsPerRun ?? 0,
            CentsPer1kTokens ?? current?.CentsPer1kTokens ?? 0, CreditsPerRun ?? current?.CreditsPerRun ?? 0,
            Raw(DefaultConfig) ?? current?.DefaultConfig ?? "{}", Raw(InputSchema) ?? current?.InputSchema, Raw(OutputSchema) ?? current?.OutputSchema,
            TokensPerRunEstimate ?? current?.TokensPerRunEstimate);
    }

    private static string? Raw(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } e ? e.GetRawText() : null;
}

public sealed record WorkerStatusRequest(string? Status = null, bool? IsPublic = null, string? ReasonCode = null, string? ReasonNote = null);

/// <summary>Is the operator's view of a worker: the current definition, status and visibility, and its versions when read alone.</summary>
public sealed record CatalogueWorkerResponse(
    string Id, string Version, string Name, string Description, WorkerStatus Status, bool IsPublic, long BaseCentsPerRun,
    [property: JsonPropertyName("cents_per_1k_tokens")] long CentsPer1kTokens, long CreditsPerRun, string Currency, JsonElement DefaultConfig,
    JsonElement? InputSchema, JsonElement? OutputSchema, int? TokensPerRunEstimate, DateTimeOffset? UpdatedAt, IReadOnlyList<WorkerVersionResponse>? Versions)
{
    public static CatalogueWorkerResponse From(WorkerSnapshot w, IReadOnlyList<WorkerVersionSnapshot>? versions) => new(
        w.Id, w.Version, w.Name, w.Description, w.Status, w.IsPublic, w.BaseCentsPerRun, w.CentsPer1kTokens, w.CreditsPerRun, "usd",
        WorkerResponse.ParseJson(w.DefaultConfig)!.Value, WorkerResponse.ParseJson(w.InputSchema), WorkerResponse.ParseJson(w.OutputSchema),
        w.TokensPerRunEstimate, w.UpdatedAt, versions?.Select(v => new WorkerVersionResponse(v.Version, v.PublishedAt)).ToList());
}

public sealed record WorkerVersionResponse(string Version, DateTimeOffset PublishedAt);

/// <summary>Is the answer to a catalogue change: the worker as it is now and the founder action that changed it.</summary>
public sealed record WorkerChangeResponse(CatalogueWorkerResponse Worker, FounderActionResponse Action);
