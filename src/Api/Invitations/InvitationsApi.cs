using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Api.Users;
using Platform.Engines;
using Platform.Engines.Invitations;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Invitations;
using Platform.Models.Tenants;

namespace Platform.Api.Invitations;

/// <summary>Maps the invitation routes: invite, list, revoke and resend in a tenant, and accept by token.</summary>
public sealed class InvitationsApi : IEndpointGroup
{
    private const string InvitationNotFound = ProblemResponses.NotATenantOfYours + " Also when the invitation is not this tenant's.";
    private const string NotPending = "`invitation_not_pending`: the invitation was accepted, revoked or has expired; `idempotency_key_in_flight`: a request with this Idempotency-Key is still running.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var invitations = routes.MapTenantGroup("/invitations").WithTags("Invitations");
        invitations.MapPost("/", CreateAsync).WithIdempotency()
            .WithName("createInvitation")
            .WithSummary("Invite someone to a tenant by email")
            .WithDescription("Needs the admin role or higher (the owner role to invite an owner); refused while the tenant is suspended. The token and the accept link are shown this once.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status403Forbidden, ProblemResponses.RoleOrPermission + " Also when a non-owner invites an owner.")
            .Refuses(StatusCodes.Status409Conflict, "`already_member`: the address already belongs to a member; `invitation_exists`: a pending invitation for it exists; `idempotency_key_in_flight`: a request with this Idempotency-Key is still running.")
            .Refuses(StatusCodes.Status429TooManyRequests, "`quota_exceeded`: the plan's member limit (members plus pending invitations) is reached; " + ProblemResponses.KeyThrottled);
        invitations.MapGet("/", ListAsync)
            .WithName("listInvitations")
            .WithSummary("List a tenant's invitations, optionally by status")
            .WithDescription("Needs the admin role or higher. status is one of pending, accepted, revoked, expired.");
        invitations.MapDelete("/{invitation_id}", RevokeAsync)
            .WithName("revokeInvitation")
            .WithSummary("Revoke a pending invitation")
            .WithDescription("Needs the admin role or higher; refused while the tenant is suspended.")
            .Refuses(StatusCodes.Status404NotFound, InvitationNotFound)
            .Refuses(StatusCodes.Status409Conflict, NotPending);
        invitations.MapPost("/{invitation_id}/resend", ResendAsync).WithIdempotency()
            .WithName("resendInvitation")
            .WithSummary("Send a pending invitation again with a new token")
            .WithDescription("Needs the admin role or higher; refused while the tenant is suspended. The new token replaces the old one and is shown this once.")
            .Refuses(StatusCodes.Status404NotFound, InvitationNotFound)
            .Refuses(StatusCodes.Status409Conflict, NotPending);
        routes.MapPost("/v1/invitations/accept", AcceptAsync).WithTags("Invitations").RequireAuthorization().WithIdempotency()
            .WithName("acceptInvitation")
            .WithSummary("Accept an invitation by its token and join the tenant")
            .WithDescription("A signed-in user whose email is the invited address joins with the invited role. API keys cannot accept invitations.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status401Unauthorized, ProblemResponses.Unauthenticated + " Also when the account no longer exists or is disabled.")
            .Refuses(StatusCodes.Status403Forbidden, "`forbidden`: the caller is not a signed-in user; `invitation_email_mismatch`: the invitation was sent to another address; `tenant_suspended`: the tenant is suspended.")
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no invitation has this token.")
            .Refuses(StatusCodes.Status409Conflict, "`already_member`: the user already belongs to the tenant; `idempotency_key_in_flight`: a request with this Idempotency-Key is still running.")
            .Refuses(StatusCodes.Status410Gone, "`invitation_expired`: the invitation expired, was revoked or accepted, or its tenant no longer exists.")
            .Refuses(StatusCodes.Status429TooManyRequests, ProblemResponses.KeyThrottled);
    }

    private static async Task<Created<IssuedInvitationResponse>> CreateAsync(CreateInvitationRequest body, [AsParameters] TenantRequest request)
    {
        var issued = await request.Send(new CreateInvitation(request.Caller, request.TenantId, body.Email ?? "", ParseRole(body.Role)));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/invitations/{issued.Invitation.Id}", IssuedInvitationResponse.From(issued));
    }

    private static async Task<Ok<ListResponse<InvitationResponse>>> ListAsync([AsParameters] TenantRequest request, string? status, string? cursor, int? limit)
    {
        InvitationStatus? parsed = null;
        if (status is not null)
        {
            parsed = WireNames.TryParse<InvitationStatus>(status, out var s)
                ? s
                : throw ValidationFailedException.For("status", "The status must be one of pending, accepted, revoked, expired.");
        }
        var page = await request.Send(new ListInvitations(request.Caller, request.TenantId, parsed, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<InvitationResponse>.From(page, InvitationResponse.From));
    }

    private static async Task<Ok<InvitationResponse>> RevokeAsync(string invitation_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(InvitationResponse.From(await request.Send(new RevokeInvitation(request.Caller, request.TenantId, ParseId(invitation_id)))));

    private static async Task<Ok<IssuedInvitationResponse>> ResendAsync(string invitation_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(IssuedInvitationResponse.From(await request.Send(new ResendInvitation(request.Caller, request.TenantId, ParseId(invitation_id)))));

    private static async Task<Ok<MembershipResponse>> AcceptAsync(AcceptInvitationRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var membership = await mediator.Send(new AcceptInvitation(http.ToCaller(), body.Token ?? ""), ct);
        return TypedResults.Ok(MembershipResponse.From(membership));
    }

    private static TenantRole ParseRole(string? role) => WireNames.TryParse<TenantRole>(role, out var parsed)
        ? parsed
        : throw ValidationFailedException.For("role", "The role must be one of owner, admin, member, viewer.");

    private static Guid ParseId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("invitation");
}
