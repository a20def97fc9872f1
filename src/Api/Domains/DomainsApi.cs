using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Plans;
using Platform.Api.Tenancy;
using Platform.Engines.Domains;
using Platform.Models;
using Platform.Models.Domains;
using Platform.Models.Errors;
using Platform.Models.Plans;

namespace Platform.Api.Domains;

/// <summary>Maps a tenant's custom domains (members read, owners and admins change; plan feature custom_domain) and the on-demand TLS "ask" endpoint.</summary>
public sealed class DomainsApi : IEndpointGroup
{
    private const string DomainNotFound = "`not_found`: the tenant has no domain with that id.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var domains = routes.MapTenantGroup("/domains").WithTags("Domains");
        domains.MapPost("/", AddAsync).RequireFeature(Features.CustomDomain)
            .WithName("addDomain")
            .WithSummary("Add a custom domain; publish its verification token as a TXT record at _platform-challenge.<name>, then verify it")
            .WithDescription("Needs the admin role or higher. The name is normalised: IDN to punycode, lower case, no trailing dot; IP literals, wildcards, "
                + "invalid labels and names under the platform's own base host are refused (422). A name is unique across all tenants.")
            .RefusesBody("`validation_failed`: the name is missing or not a valid domain name (`errors` names `name`); or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status409Conflict, "`domain_taken`: the name is registered already (by this or another tenant); `domain_limit_reached`: the tenant holds Domains:MaxPerTenant domains.");
        domains.MapGet("/", ListAsync).RequireFeature(Features.CustomDomain)
            .WithName("listDomains")
            .WithSummary("List the tenant's custom domains with their status, certificate status and verification record")
            .WithDescription("Any member (viewer or higher) may read them; API keys cannot.");
        domains.MapGet("/{domain_id}", GetAsync).RequireFeature(Features.CustomDomain)
            .WithName("getDomain")
            .WithSummary("Get one custom domain")
            .WithDescription("Any member (viewer or higher) may read it; API keys cannot.")
            .Refuses(StatusCodes.Status404NotFound, DomainNotFound);
        domains.MapDelete("/{domain_id}", DeleteAsync)
            .WithName("deleteDomain")
            .WithSummary("Remove a custom domain; it stops reaching the tenant at once and its name is free again")
            .WithDescription("Needs the admin role or higher (not the plan feature: a tenant whose plan lost custom domains can still remove them).")
            .Refuses(StatusCodes.Status404NotFound, DomainNotFound);
        domains.MapPost("/{domain_id}/verify", VerifyAsync).RequireFeature(Features.CustomDomain)
            .WithName("verifyDomain")
            .WithSummary("Look up the domain's TXT record now and record the outcome (status verified, or failed with last_error)")
            .WithDescription("Needs the admin role or higher. The answer is the domain as recorded: `verified` when the TXT record at "
                + "_platform-challenge.<name> holds the token, `failed` when the name servers answered without it, unchanged with `last_error` when they did not answer.")
            .Refuses(StatusCodes.Status404NotFound, DomainNotFound);

        routes.MapGet("/v1/domains/allowed", AllowedAsync).WithTags("Domains").AllowAnonymous()
            .WithName("isDomainAllowed")
            .WithSummary("Tell a TLS-terminating proxy whether it may get a certificate for a name (Caddy's on_demand_tls ask endpoint)")
            .WithDescription("Public: no token needed. 200 only for a verified custom domain of a tenant in trial, active or past due that has the "
                + "custom_domain feature; 404 for every other name.")
            .RefusesMalformed()
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: the name is not a verified custom domain of an active tenant.");
    }

    private static async Task<Created<DomainResponse>> AddAsync(AddDomainRequest body, [AsParameters] TenantRequest request, PlatformOptions options)
    {
        var name = DomainNames.Normalise(body.Name, out _);
        var baseHost = options.BaseHost.TrimEnd('.').ToLowerInvariant();
        if (name is not null && baseHost.Length > 0 && (name == baseHost || name.EndsWith("." + baseHost, StringComparison.Ordinal)))
        {
            throw ValidationFailedException.For("name", $"Names under {baseHost} are the platform's own; tenants reach them by slug.");
        }
        var added = await request.Send(new AddDomain(request.Caller, request.TenantId, body.Name));
        return TypedResults.Created($"/v1/tenants/{request.TenantId}/domains/{added.Id}", DomainResponse.From(added));
    }

    private static async Task<Ok<ListResponse<DomainResponse>>> ListAsync([AsParameters] TenantRequest request) =>
        TypedResults.Ok(new ListResponse<DomainResponse>((await request.Send(new ListDomains(request.Caller, request.TenantId))).Select(DomainResponse.From).ToList(), null));

    private static async Task<Ok<DomainResponse>> GetAsync(string domain_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(DomainResponse.From(await request.Send(new GetDomain(request.Caller, request.TenantId, DomainId(domain_id)))));

    private static async Task<NoContent> DeleteAsync(string domain_id, [AsParameters] TenantRequest request)
    {
        await request.Send(new DeleteDomain(request.Caller, request.TenantId, DomainId(domain_id)));
        return TypedResults.NoContent();
    }

    private static async Task<Ok<DomainResponse>> VerifyAsync(string domain_id, [AsParameters] TenantRequest request) =>
        TypedResults.Ok(DomainResponse.From(await request.Send(new VerifyDomain(request.Caller, request.TenantId, DomainId(domain_id)))));

    private static async Task<Ok<AllowedDomainResponse>> AllowedAsync([FromQuery(Name = "domain")] string? domain, MediatR.IMediator mediator, CancellationToken cancellationToken)
    {
        var name = DomainNames.Normalise(domain, out _) ?? throw new NotFoundException("domain");
        _ = await mediator.Send(new ResolveDomainHost(name), cancellationToken) ?? throw new NotFoundException("domain");
        return TypedResults.Ok(new AllowedDomainResponse(name));
    }

    private static Guid DomainId(string raw) => Guid.TryParse(raw, out var id) ? id : throw new NotFoundException("domain");
}

/// <summary>Is the body of a domain addition.</summary>
public sealed record AddDomainRequest(string? Name);

/// <summary>Is the DNS record that proves control of a domain: its type (TXT), name and value.</summary>
public sealed record DomainVerificationRecord(string Type, string Name, string Value);

/// <summary>Is the wire form of a custom domain: status pending, verified or failed; ssl_status pending, issued, renewing, expired or failed, from the
/// re-check job's TLS probe of the proxy (ssl_expires_at: the served certificate's end; ssl_checked_at: the last probe; both null before one).</summary>
public sealed record DomainResponse(
    Guid Id, string Name, string Status, string SslStatus, DomainVerificationRecord Verification, DateTimeOffset? VerifiedAt, DateTimeOffset? LastCheckedAt,
    DateTimeOffset? MissingSince, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? SslExpiresAt, DateTimeOffset? SslCheckedAt)
{
    public static DomainResponse From(CustomDomain d) => new(
        d.Id, d.Name, d.Status.ToWire(), d.SslStatus.ToWire(), new DomainVerificationRecord("TXT", d.ChallengeName, d.VerificationToken),
        d.VerifiedAt, d.LastCheckedAt, d.MissingSince, d.LastError, d.CreatedAt, d.SslExpiresAt, d.SslCheckedAt);
}

/// <summary>Is the answer of the ask endpoint for an allowed name.</summary>
public sealed record AllowedDomainResponse(string Domain);
