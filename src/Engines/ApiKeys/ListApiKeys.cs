using FluentValidation;
using MediatR;
using Platform.Drivers.ApiKeys;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.ApiKeys;
using Platform.Models.Tenants;

namespace Platform.Engines.ApiKeys;

/// <summary>Lists a tenant's API keys in id order (admin), never with their secrets, each with its creator and whether the creator is still a member.</summary>
public sealed record ListApiKeys(Caller Caller, Guid TenantId, string? Cursor, int Limit)
    : IRequest<Page<ApiKeyListing>>, ITenantRead, ICallerCommand;

internal sealed class ListApiKeysValidator : AbstractValidator<ListApiKeys>
{
    public ListApiKeysValidator() => RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
}

internal sealed class ListApiKeysHandler(TenantGate gate, IApiKeyDriver keys) : IRequestHandler<ListApiKeys, Page<ApiKeyListing>>
{
    public async Task<Page<ApiKeyListing>> Handle(ListApiKeys query, CancellationToken cancellationToken)
    {
        var after = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Admin, Access.Read, cancellationToken);
        var rows = await keys.ListApiKeysAsync(scope.Session, query.TenantId, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, k => k.Key.Id);
    }
}
