using FluentValidation;
using MediatR;
using Platform.Drivers.Runs;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Runs;
using Platform.Models.Tenants;

namespace Platform.Engines.Runs;

/// <summary>Lists the tenant's runs newest first, filtered by status and worker (viewer or higher, key "runs:read").</summary>
public sealed record ListRuns(Caller Caller, Guid TenantId, RunFilter Filter, string? Cursor, int Limit)
    : IRequest<Page<RunSnapshot>>, ITenantRead, ICallerCommand;

internal sealed class ListRunsValidator : AbstractValidator<ListRuns>
{
    public ListRunsValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Filter.WorkerId).MaximumLength(63).OverridePropertyName("worker_id");
    }
}

internal sealed class ListRunsHandler(TenantGate gate, IRunDriver runs) : IRequestHandler<ListRuns, Page<RunSnapshot>>
{
    public async Task<Page<RunSnapshot>> Handle(ListRuns query, CancellationToken cancellationToken)
    {
        var before = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken, keyPermission: "runs:read");
        var rows = await runs.ListRunsAsync(scope.Session, query.TenantId, query.Filter, before, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, r => r.Id);
    }
}
