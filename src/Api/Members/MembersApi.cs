using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Members;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Tenants;

namespace Platform.Api.Members;

/// <summary>Maps the member routes of a tenant: list, change role, remove.</summary>
public sealed class MembersApi : IEndpointGroup
{
    private const string MemberNotFound = ProblemResponses.NotATenantOfYours + " Also when the user is not a member of this tenant.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var members = routes.MapTenantGroup("/members").WithTags("Members");
        members.MapGet("/", ListAsync)
            .WithName("listMembers")
            .WithSummary("List a tenant's members with their roles")
            .WithDescription("Any member (viewer or higher) may list; API keys cannot.");
        members.MapPatch("/{user_id}", ChangeRoleAsync)
            .WithName("changeMemberRole")
            .WithSummary("Change a member's role")
            .WithDescription("Needs the admin role or higher; only an owner grants or takes the owner role, and the last owner keeps it.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, ProblemResponses.RoleOrPermission + " Also when a non-owner grants or takes the owner role.")
            .Refuses(StatusCodes.Status404NotFound, MemberNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`last_owner`: the tenant must keep at least one owner.");
        members.MapDelete("/{user_id}", RemoveAsync)
            .WithName("removeMember")
            .WithSummary("Remove a member from a tenant")
            .WithDescription("Needs the admin role or higher (the owner role to remove an owner); a member may remove themselves.")
            .Refuses(StatusCodes.Status404NotFound, MemberNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`last_owner`: the tenant must keep at least one owner.");
    }

    private static async Task<Ok<ListResponse<MemberResponse>>> ListAsync([AsParameters] TenantRequest request, string? cursor, int? limit)
    {
        var page = await request.Send(new ListMembers(request.Caller, request.TenantId, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<MemberResponse>.From(page, MemberResponse.From));
    }

    private static async Task<Ok<MemberResponse>> ChangeRoleAsync(string user_id, ChangeRoleRequest body, [AsParameters] TenantRequest request)
    {
        if (!WireNames.TryParse<TenantRole>(body.Role, out var role))
        {
            throw ValidationFailedException.For("role", "The role must be one of owner, admin, member, viewer.");
        }
        var member = await request.Send(new ChangeMemberRole(request.Caller, request.TenantId, ParseUserId(user_id), role));
        return TypedResults.Ok(MemberResponse.From(member));
    }

    private static async Task<NoContent> RemoveAsync(string user_id, [AsParameters] TenantRequest request)
    {
        await request.Send(new RemoveMember(request.Caller, request.TenantId, ParseUserId(user_id)));
        return TypedResults.NoContent();
    }

    private static Guid ParseUserId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("member");
}
