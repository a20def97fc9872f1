using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Members;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Api.Endpoints;

/// <summary>Maps the member routes of a tenant: list, change role, remove.</summary>
public static class MembersApi
{
    public static IEndpointRouteBuilder MapMembersApi(this IEndpointRouteBuilder routes)
    {
        var members = routes.MapTenantGroup("/members").WithTags("Members");
        members.MapGet("/", ListAsync);
        members.MapPatch("/{user_id}", ChangeRoleAsync);
        members.MapDelete("/{user_id}", RemoveAsync);
        return routes;
    }

    private static async Task<Ok<ListResponse<MemberResponse>>> ListAsync(HttpContext http, IMediator mediator, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListMembers(http.ToCaller(), TenantRouteFilter.TenantId(http), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<MemberResponse>.From(page, MemberResponse.From));
    }

    private static async Task<Ok<MemberResponse>> ChangeRoleAsync(string user_id, ChangeRoleRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        if (!TenantRoles.TryParse(body.Role, out var role))
        {
            throw ValidationFailedException.For("role", "The role must be one of owner, admin, member, viewer.");
        }
        var member = await mediator.Send(new ChangeMemberRole(http.ToCaller(), TenantRouteFilter.TenantId(http), ParseUserId(user_id), role), ct);
        return TypedResults.Ok(MemberResponse.From(member));
    }

    private static async Task<NoContent> RemoveAsync(string user_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new RemoveMember(http.ToCaller(), TenantRouteFilter.TenantId(http), ParseUserId(user_id)), ct);
        return TypedResults.NoContent();
    }

    private static Guid ParseUserId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("member");
}
