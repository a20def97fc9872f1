using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Invitations;
using Platform.Models.Errors;
using Platform.Models.Invitations;
using Platform.Models.Tenants;
using Platform.Api.Idempotency;

namespace Platform.Api.Endpoints;

/// <summary>Maps the invitation routes: invite, list, revoke and resend in a tenant, and accept by token.</summary>
public static class InvitationsApi
{
    public static IEndpointRouteBuilder MapInvitationsApi(this IEndpointRouteBuilder routes)
    {
        var invitations = routes.MapTenantGroup("/invitations").WithTags("Invitations");
        invitations.MapPost("/", CreateAsync).WithIdempotency();
        invitations.MapGet("/", ListAsync);
        invitations.MapDelete("/{invitation_id}", RevokeAsync);
        invitations.MapPost("/{invitation_id}/resend", ResendAsync).WithIdempotency();
        routes.MapPost("/v1/invitations/accept", AcceptAsync).WithTags("Invitations").RequireAuthorization().WithIdempotency();
        return routes;
    }

    private static async Task<Created<IssuedInvitationResponse>> CreateAsync(CreateInvitationRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var tenantId = TenantRouteFilter.TenantId(http);
        var issued = await mediator.Send(new CreateInvitation(http.ToCaller(), tenantId, body.Email ?? "", ParseRole(body.Role)), ct);
        return TypedResults.Created($"/v1/tenants/{tenantId}/invitations/{issued.Invitation.Id}", IssuedInvitationResponse.From(issued));
    }

    private static async Task<Ok<ListResponse<InvitationResponse>>> ListAsync(HttpContext http, IMediator mediator, string? status, string? cursor, int? limit, CancellationToken ct)
    {
        InvitationStatus? parsed = null;
        if (status is not null)
        {
            parsed = InvitationStatuses.TryParse(status, out var s)
                ? s
                : throw ValidationFailedException.For("status", "The status must be one of pending, accepted, revoked, expired.");
        }
        var page = await mediator.Send(new ListInvitations(http.ToCaller(), TenantRouteFilter.TenantId(http), parsed, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<InvitationResponse>.From(page, InvitationResponse.From));
    }

    private static async Task<Ok<InvitationResponse>> RevokeAsync(string invitation_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var revoked = await mediator.Send(new RevokeInvitation(http.ToCaller(), TenantRouteFilter.TenantId(http), ParseId(invitation_id)), ct);
        return TypedResults.Ok(InvitationResponse.From(revoked));
    }

    private static async Task<Ok<IssuedInvitationResponse>> ResendAsync(string invitation_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var issued = await mediator.Send(new ResendInvitation(http.ToCaller(), TenantRouteFilter.TenantId(http), ParseId(invitation_id)), ct);
        return TypedResults.Ok(IssuedInvitationResponse.From(issued));
    }

    private static async Task<Ok<MembershipResponse>> AcceptAsync(AcceptInvitationRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var membership = await mediator.Send(new AcceptInvitation(http.ToCaller(), body.Token ?? ""), ct);
        return TypedResults.Ok(MembershipResponse.From(membership));
    }

    private static TenantRole ParseRole(string? role) => TenantRoles.TryParse(role, out var parsed)
        ? parsed
        : throw ValidationFailedException.For("role", "The role must be one of owner, admin, member, viewer.");

    private static Guid ParseId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("invitation");
}
