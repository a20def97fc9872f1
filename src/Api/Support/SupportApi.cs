using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Idempotency;
using Platform.Api.Tenancy;
using Platform.Engines;
using Platform.Engines.Operators;
using Platform.Engines.Support;
using Platform.Models.Support;

namespace Platform.Api.Support;

/// <summary>Maps support tickets: a tenant's members open and comment, viewers read (another tenant's ticket is 404); operators list,
/// answer, change the status of and resolve tickets across tenants under /v1/admin.</summary>
public sealed class SupportApi : IEndpointGroup
{
    private const string TicketNotFound = ProblemResponses.NotATenantOfYours + " Also when the ticket is not this tenant's.";
    private const string NoTicket = "`not_found`: no support ticket has this id.";
    private const string SupportRole = "`forbidden`: the operator's role is below support, or the operator must sign in with a TOTP code (or enrol TOTP) first.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var tickets = routes.MapTenantGroup("/support-tickets").WithTags("Support");
        tickets.MapPost("/", OpenAsync).WithIdempotency()
            .WithName("openSupportTicket")
            .WithSummary("Open a support ticket")
            .WithDescription("Needs the member role or higher; API keys cannot. Works while the tenant is suspended. priority defaults to normal.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused);
        tickets.MapGet("/", ListAsync)
            .WithName("listSupportTickets")
            .WithSummary("List a tenant's support tickets, optionally by status")
            .WithDescription("Any member (viewer or higher); API keys cannot.");
        tickets.MapGet("/{id:guid}", GetAsync)
            .WithName("getSupportTicket")
            .WithSummary("Get a support ticket with its responses")
            .WithDescription("Any member (viewer or higher); API keys cannot.")
            .Refuses(StatusCodes.Status404NotFound, TicketNotFound);
        tickets.MapPost("/{id:guid}/responses", CommentAsync).WithIdempotency()
            .WithName("commentOnSupportTicket")
            .WithSummary("Add a comment to a support ticket")
            .WithDescription("Needs the member role or higher; API keys cannot.")
            .RefusesBody(ProblemResponses.InvalidOrKeyReused)
            .Refuses(StatusCodes.Status404NotFound, TicketNotFound);

        var admin = routes.MapOperatorGroup("/v1/admin", "Support");
        admin.MapGet("/support-tickets", ListAllAsync)
            .WithName("listAllSupportTickets")
            .WithSummary("List support tickets across tenants, by tenant, status, priority or category")
            .WithDescription("Any operator (viewer or higher).");
        admin.MapGet("/support-tickets/{id:guid}", GetForOperatorAsync)
            .WithName("getSupportTicketForOperator")
            .WithSummary("Get any tenant's support ticket with its responses")
            .WithDescription("Any operator (viewer or higher).")
            .Refuses(StatusCodes.Status404NotFound, NoTicket);
        admin.MapPost("/support-tickets/{id:guid}/responses", RespondAsync)
            .WithName("respondToSupportTicket")
            .WithSummary("Answer a support ticket as an operator")
            .WithDescription("Needs the support operator role or higher.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SupportRole)
            .Refuses(StatusCodes.Status404NotFound, NoTicket);
        admin.MapPatch("/support-tickets/{id:guid}", ChangeStatusAsync)
            .WithName("changeSupportTicketStatus")
            .WithSummary("Change a support ticket's status")
            .WithDescription("Needs the support operator role or higher; a closed ticket cannot change.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SupportRole)
            .Refuses(StatusCodes.Status404NotFound, NoTicket)
            .Refuses(StatusCodes.Status409Conflict, "`status_unchanged`: the ticket has this status already; `conflict`: a closed ticket cannot change.");
        admin.MapPost("/support-tickets/{id:guid}/resolve", ResolveAsync)
            .WithName("resolveSupportTicket")
            .WithSummary("Resolve a support ticket with a resolution")
            .WithDescription("Needs the support operator role or higher; a closed ticket cannot change.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SupportRole)
            .Refuses(StatusCodes.Status404NotFound, NoTicket)
            .Refuses(StatusCodes.Status409Conflict, "`status_unchanged`: the ticket is resolved already; `conflict`: a closed ticket cannot change.");
    }

    private static async Task<Created<SupportTicketResponse>> OpenAsync(OpenSupportTicketRequest body, [AsParameters] TenantRequest request)
    {
        var ticket = await request.Send(new OpenSupportTicket(
            request.Caller, request.TenantId, body.Subject ?? "", body.Description ?? "", body.Category ?? "", body.Priority ?? "normal"));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/support-tickets/{ticket.Id}", SupportTicketResponse.From(ticket));
    }

    private static async Task<Ok<ListResponse<SupportTicketResponse>>> ListAsync([AsParameters] TenantRequest request, string? status, string? cursor, int? limit)
    {
        var page = await request.Send(new ListSupportTickets(request.Caller, request.TenantId, status, cursor, limit ?? Paging.DefaultLimit));
        return TypedResults.Ok(ListResponse<SupportTicketResponse>.From(page, SupportTicketResponse.From));
    }

    private static async Task<Ok<SupportTicketResponse>> GetAsync(Guid id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(SupportTicketResponse.From(await request.Send(new GetSupportTicket(request.Caller, request.TenantId, id))));

    private static async Task<Created<SupportTicketCommentResponse>> CommentAsync(Guid id, SupportTicketResponseRequest body, [AsParameters] TenantRequest request)
    {
        var response = await request.Send(new AddSupportTicketComment(request.Caller, request.TenantId, id, body.Body ?? ""));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/support-tickets/{id}", SupportTicketCommentResponse.From(response));
    }

    private static async Task<Ok<ListResponse<SupportTicketResponse>>> ListAllAsync(
        HttpContext http, IMediator mediator, Guid? tenant_id, string? status, string? priority, string? category, string? cursor, int? limit, CancellationToken ct)
    {
        var filter = new SupportTicketFilter(tenant_id, status, priority, category);
        var page = await mediator.Send(new ListAllSupportTickets(http.ToOperatorCaller(), filter, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<SupportTicketResponse>.From(page, SupportTicketResponse.From));
    }

    private static async Task<Ok<SupportTicketResponse>> GetForOperatorAsync(Guid id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(SupportTicketResponse.From(await mediator.Send(new GetSupportTicketForOperator(http.ToOperatorCaller(), id), ct)));

    private static async Task<Created<SupportTicketCommentResponse>> RespondAsync(
        Guid id, SupportTicketResponseRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var response = await mediator.Send(new RespondToSupportTicket(http.ToOperatorCaller(), id, body.Body ?? ""), ct);
        return TypedResults.Created($"/v1/admin/support-tickets/{id}", SupportTicketCommentResponse.From(response));
    }

    private static async Task<Ok<SupportTicketResponse>> ChangeStatusAsync(
        Guid id, ChangeSupportTicketStatusRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(SupportTicketResponse.From(await mediator.Send(new ChangeSupportTicketStatus(http.ToOperatorCaller(), id, body.Status ?? "", body.Resolution), ct)));

    private static async Task<Ok<SupportTicketResponse>> ResolveAsync(
        Guid id, ResolveSupportTicketRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(SupportTicketResponse.From(await mediator.Send(new ChangeSupportTicketStatus(http.ToOperatorCaller(), id, "resolved", body.Resolution ?? ""), ct)));
}
