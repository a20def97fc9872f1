using FluentValidation;
using MediatR;
using Platform.Engines.Sessions;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Lists operators in id order (super_admin only), without secrets.</summary>
public sealed record ListOperators(Caller Caller, string? Cursor, int Limit) : IRequest<Page<OperatorSnapshot>>, ICallerCommand;

/// <summary>Fetches one operator (super_admin only), without secrets.</summary>
public sealed record GetOperator(Caller Caller, Guid OperatorId) : IRequest<OperatorSnapshot>, ICallerCommand;

internal sealed class ListOperatorsValidator : AbstractValidator<ListOperators>
{
    public ListOperatorsValidator() => RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
}

internal sealed class ListOperatorsHandler(IDbSessionFactory sessions, IOperatorDriver operators)
    : IRequestHandler<ListOperators, Page<OperatorSnapshot>>, IRequestHandler<GetOperator, OperatorSnapshot>
{
    public async Task<Page<OperatorSnapshot>> Handle(ListOperators query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.SuperAdmin);
        var after = Paging.DecodeGuid(query.Cursor);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var rows = await operators.ListOperatorsAsync(session, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, o => o.Id);
    }

    public async Task<OperatorSnapshot> Handle(GetOperator query, CancellationToken cancellationToken)
    {
        OperatorGate.Require(query.Caller, OperatorRole.SuperAdmin);
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        return await operators.FetchOperatorAsync(session, query.OperatorId, cancellationToken) ?? throw new NotFoundException("operator");
    }
}
