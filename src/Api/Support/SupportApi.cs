using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Contracts;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Support;
using Platform.Api.Idempotency;

namespace Platform.Api.Endpoints;

/// <summary>Maps a tenant's support tickets: members open and comment, viewers read; another tenant's ticket is 404.</summary>
public static class SupportTicketsApi
{
    public static IEndpointRouteBuilder MapSupportTicketsApi(this IEndpointRouteBuilder routes)
    {
        var tickets = routes.MapTenantGroup("/support-tickets").WithTags("Support tickets");
        tickets.MapPost("/", OpenAsync).WithIdempotency();
        tickets.MapGet("/", ListAsync);
        tickets.MapGet("/{id:guid}", GetAsync);
        tickets.MapPost("/{id:guid}/responses", CommentAsync).WithIdempotency();
        return routes;
    }

    private static async Task<Created<SupportTicketResponse>> OpenAsync(OpenSupportTicketRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var tenantId = TenantRouteFilter.TenantId(http);
        var ticket = await mediator.Send(new OpenSupportTicket(
            http.ToCaller(), tenantId, body.Subject ?? "", body.Description ?? "", body.Category ?? "", body.Priority ?? "normal"), ct);
        return TypedResults.Created($"/v1/tenants/{tenantId}/support-tickets/{ticket.Id}", SupportTicketResponse.From(ticket));
    }

    private static async Task<Ok<ListResponse<SupportTicketResponse>>> ListAsync(
        HttpContext http, IMediator mediator, string? status, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListSupportTickets(http.ToCaller(), TenantRouteFilter.TenantId(http), status, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<SupportTicketResponse>.From(page, SupportTicketResponse.From));
    }

    private static async Task<Ok<SupportTicketResponse>> GetAsync(Guid id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(SupportTicketResponse.From(await mediator.Send(new GetSupportTicket(http.ToCaller(), TenantRouteFilter.TenantId(http), id), ct)));

    private static async Task<Created<SupportTicketCommentResponse>> CommentAsync(
        Guid id, SupportTicketResponseRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var tenantId = TenantRouteFilter.TenantId(http);
        var response = await mediator.Send(new AddSupportTicketComment(http.ToCaller(), tenantId, id, body.Body ?? ""), ct);
        return TypedResults.Created($"/v1/tenants/{tenantId}/support-tickets/{id}", SupportTicketCommentResponse.From(response));
    }
}
