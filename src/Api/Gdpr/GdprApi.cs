using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Auth;
using Platform.Api.Tenancy;
using Platform.Engines.Gdpr;
using Platform.Engines.Users;

namespace Platform.Api.Endpoints;

/// <summary>Maps the GDPR routes: a tenant's data export (owner) and the erasure of the signed-in user's account.</summary>
public static class GdprApi
{
    public static IEndpointRouteBuilder MapGdprApi(this IEndpointRouteBuilder routes)
    {
        routes.MapTenantGroup("/export").WithTags("GDPR").MapPost("/", ExportAsync);
        routes.MapDelete("/v1/me", EraseMeAsync).WithTags("GDPR").RequireAuthorization();
        return routes;
    }

    private static async Task<Ok<TenantExport>> ExportAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var export = await mediator.Send(new ExportTenant(http.ToCaller(), TenantRouteFilter.TenantId(http)), ct);
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"tenant-{export.TenantId}.json\"";
        return TypedResults.Ok(export);
    }

    private static async Task<NoContent> EraseMeAsync(HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new EraseMe(http.ToCaller()), ct);
        return TypedResults.NoContent();
    }
}
