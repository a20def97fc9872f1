using FluentValidation;
using MediatR;
using Platform.Engines.Sessions;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Lists founder actions newest first (any operator), optionally for one tenant or one action type.</summary>
public sealed record ListFounderActions(Caller Caller, FounderActionFilter Filter, string? Cursor, int Limit)
    : IRequest<Page<FounderActionSnapshot>>, ICallerCommand;

/// <summary>Fetches one founder action (any operator).</summary>
public sealed record GetFounderAction(Caller Caller, Guid ActionId) : IRequest<FounderActionSnapshot>, ICallerCommand;

internal sealed class ListFounderActionsValidator : AbstractValidator<ListFounderActions>
{
    public ListFounderActionsValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Filter.ActionType).MaximumLength(100).OverridePropertyName("action_type");
    }
}

internal sealed class ListFounderActionsHandler(IDbSessionFactory sessions, IFounderActionDriver actions)
    : IRequestHandler<ListFounderActions, Page<FounderActionSnapshot>>
{
    public async Task<Page<FounderActionSnapshot>> Handle(ListFounderActions query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        var before = Paging.DecodeGuid(query.Cursor);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var rows = await actions.ListAsync(session, query.Filter, before, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, a => a.Id);
    }
}

internal sealed class GetFounderActionHandler(IDbSessionFactory sessions, IFounderActionDriver actions)
    : IRequestHandler<GetFounderAction, FounderActionSnapshot>
{
    public async Task<FounderActionSnapshot> Handle(GetFounderAction query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.Viewer);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await actions.FetchAsync(session, query.ActionId, cancellationToken) ?? throw new Models.Errors.NotFoundException("founder action");
    }
}
