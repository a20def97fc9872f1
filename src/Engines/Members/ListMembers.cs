using FluentValidation;
using MediatR;
using Platform.Drivers.Tenants;
using Platform.Engines.Pipeline;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Tenants;

namespace Platform.Engines.Members;

/// <summary>Lists a tenant's members in user id order (viewer or higher).</summary>
public sealed record ListMembers(Caller Caller, Guid TenantId, string? Cursor, int Limit)
    : IRequest<Page<MemberSnapshot>>, ITenantRead, ICallerCommand;

internal sealed class ListMembersValidator : AbstractValidator<ListMembers>
{
    public ListMembersValidator() => RuleFor(c => c.Limit).InclusiveBetween(1, Paging.MaxLimit);
}

internal sealed class ListMembersHandler(TenantGate gate, IMemberDriver members) : IRequestHandler<ListMembers, Page<MemberSnapshot>>
{
    public async Task<Page<MemberSnapshot>> Handle(ListMembers query, CancellationToken cancellationToken)
    {
        var after = Paging.DecodeGuid(query.Cursor);
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        var rows = await members.ListMembersAsync(scope.Session, query.TenantId, after, query.Limit + 1, cancellationToken);
        return Paging.ToPage(rows, query.Limit, m => m.UserId);
    }
}
