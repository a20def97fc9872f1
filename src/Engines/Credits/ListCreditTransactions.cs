using FluentValidation;
using MediatR;
using Platform.Drivers.Credits;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Credits;
using Platform.Models.Tenants;

namespace Platform.Engines.Credits;

/// <summary>Lists the tenant's credit ledger newest first (admin or higher).</summary>
public sealed record ListCreditTransactions(Caller Caller, Guid TenantId, string? Cursor, int Limit)
    : IRequest<Page<CreditTransactionSnapshot>>, ITenantRead, ICallerCommand;

internal sealed class ListCreditTransactionsValidator : AbstractValidator<ListCreditTransactions>
{
    public ListCreditTransactionsValidator() => RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
}

internal sealed class ListCreditTransactionsHandler(TenantGate gate, ICreditDriver credits)
    : IRequestHandler<ListCreditTransactions, Page<CreditTransactionSnapshot>>
{
    public async Task<Page<CreditTransactionSnapshot>> Handle(ListCreditTransactions query, CancellationToken cancellationToken)
    {
        var before = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var rows = await credits.ListTransactionsAsync(scope.Session, query.TenantId, before, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, t => t.Id);
    }
}
