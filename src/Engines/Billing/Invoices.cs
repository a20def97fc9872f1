using FluentValidation;
using MediatR;
using Platform.Drivers.Billing;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Billing;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Engines.Billing;

/// <summary>Lists the tenant's invoices newest first, optionally of one status (admin or higher).</summary>
public sealed record ListInvoices(Caller Caller, Guid TenantId, string? Status, string? Cursor, int Limit)
    : IRequest<Page<InvoiceSnapshot>>, ITenantRead, ICallerCommand;

/// <summary>Reads one of the tenant's invoices with its lines (admin or higher); another tenant's invoice is not found.</summary>
public sealed record GetInvoice(Caller Caller, Guid TenantId, Guid InvoiceId) : IRequest<InvoiceDetail>, ITenantRead, ICallerCommand;

internal sealed class ListInvoicesValidator : AbstractValidator<ListInvoices>
{
    private static readonly IReadOnlyList<string> Statuses = WireNames.Names<InvoiceStatus>();

    public ListInvoicesValidator()
    {
        RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
        RuleFor(c => c.Status).Must(s => s is null || Statuses.Contains(s)).WithMessage($"Status must be one of {string.Join(", ", Statuses)}.");
    }
}

internal sealed class ListInvoicesHandler(TenantGate gate, IInvoiceDriver invoices) : IRequestHandler<ListInvoices, Page<InvoiceSnapshot>>
{
    public async Task<Page<InvoiceSnapshot>> Handle(ListInvoices query, CancellationToken cancellationToken)
    {
        var before = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var rows = await invoices.ListInvoicesAsync(scope.Session, query.TenantId, query.Status is null ? null : WireNames.Parse<InvoiceStatus>(query.Status), before, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, i => i.Id);
    }
}

internal sealed class GetInvoiceHandler(TenantGate gate, IInvoiceDriver invoices) : IRequestHandler<GetInvoice, InvoiceDetail>
{
    public async Task<InvoiceDetail> Handle(GetInvoice query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var invoice = await invoices.FetchInvoiceAsync(scope.Session, query.TenantId, query.InvoiceId, cancellationToken)
            ?? throw new NotFoundException("invoice");
        var lines = await invoices.ListLinesAsync(scope.Session, query.TenantId, query.InvoiceId, cancellationToken);
        return new InvoiceDetail(invoice, lines);
    }
}
