using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Tenancy;
using Platform.Engines.Gdpr;
using Platform.Engines.Users;

namespace Platform.Api.Gdpr;

/// <summary>Maps the GDPR routes: a tenant's data export (owner) and the erasure of the signed-in user's account.</summary>
public sealed class GdprApi : IEndpointGroup
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapTenantGroup("/export").WithTags("Gdpr").MapPost("/", ExportAsync)
            .WithName("exportTenant")
            .WithSummary("Export all of a tenant's data as one JSON document")
            .WithDescription("Needs the owner role; API keys cannot. The answer is an attachment named tenant-{id}.json.");
        routes.MapDelete("/v1/me", EraseMeAsync).WithTags("Gdpr").RequireAuthorization()
            .WithName("eraseMe")
            .WithSummary("Erase the signed-in user's account and personal data")
            .WithDescription("Only the signed-in user (not an API key). Refused while the user is the last owner of a tenant.")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status401Unauthorized, ProblemResponses.Unauthenticated + " Also when the account no longer exists or is disabled.")
            .Refuses(StatusCodes.Status403Forbidden, "`forbidden`: the caller is not a signed-in user (API keys cannot erase accounts).")
            .Refuses(StatusCodes.Status409Conflict, "`last_owner`: the user is the last owner of a tenant; transfer ownership or delete the tenant first.")
            .Refuses(StatusCodes.Status429TooManyRequests, ProblemResponses.KeyThrottled);
    }

    private static async Task<Ok<TenantExport>> ExportAsync([AsParameters] TenantRequest request)
    {
        var export = await request.Send(new ExportTenant(request.Caller, request.TenantId));
        request.Http.Response.Headers.ContentDisposition = $"attachment; filename=\"tenant-{export.TenantId}.json\"";
        return TypedResults.Ok(export);
    }

    private static async Task<NoContent> EraseMeAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new EraseMe(http.ToCaller()), ct);
        return TypedResults.NoContent();
    }
}
