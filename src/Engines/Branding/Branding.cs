using MediatR;
using Platform.Drivers.Branding;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Plans;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Branding;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Tenants;

namespace Platform.Engines.Branding;

/// <summary>Reads a tenant's branding (any member).</summary>
public sealed record GetBranding(Caller Caller, Guid TenantId) : IRequest<TenantBranding>, ITenantRead, ICallerCommand;

/// <summary>Replaces a tenant's branding (owner or admin); every field is checked and a refusal names it (422).</summary>
public sealed record UpdateBranding(Caller Caller, Guid TenantId, TenantBranding Branding) : IRequest<TenantBranding>, ITenantWrite, ICallerCommand;

/// <summary>Reads what the sign-in page of a tenant shows, for anyone: its name and slug, and its branding while it has the branding feature;
/// throws NotFoundException for a tenant that does not exist or is deleted.</summary>
public sealed record GetPublicBranding(Guid TenantId) : IRequest<PublicBranding>, ITenantRead;

/// <summary>Holds what anyone may see of a tenant for its sign-in page.</summary>
public sealed record PublicBranding(string Slug, string Name, TenantBranding Branding);

internal sealed class GetBrandingHandler(TenantGate gate, IBrandingDriver branding) : IRequestHandler<GetBranding, TenantBranding>
{
    public async Task<TenantBranding> Handle(GetBranding query, CancellationToken cancellationToken)
    {
        await using var scope = await gate.EnterAsync(query.TenantId, query.Caller, TenantRole.Viewer, Access.Read, cancellationToken);
        return await branding.FetchBrandingAsync(scope.Session, query.TenantId, cancellationToken) ?? TenantBranding.Empty;
    }
}

internal sealed class UpdateBrandingHandler(TenantGate gate, ITenantDriver tenants, IBrandingDriver branding, AuditTrail audit, IClock clock)
    : IRequestHandler<UpdateBranding, TenantBranding>
{
    public async Task<TenantBranding> Handle(UpdateBranding command, CancellationToken cancellationToken)
    {
        var wanted = BrandingRules.Normalise(Check(command.Branding));
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var before = await branding.FetchBrandingAsync(scope.Session, command.TenantId, cancellationToken) ?? TenantBranding.Empty;
        await branding.SaveBrandingAsync(scope.Session, command.TenantId, wanted, EntitlementRules.Actor(command.Caller), clock.UtcNow, cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "branding.updated", "branding", command.TenantId, before, wanted, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return wanted;
    }

    /// <summary>Refuses the branding with every bad field named (snake_case, as on the wire), or returns it.</summary>
    private static TenantBranding Check(TenantBranding b)
    {
        var errors = new Dictionary<string, string[]>();
        void Add(string field, string? problem)
        {
            if (problem is not null)
            {
                errors[field] = [problem];
            }
        }
        Add("logo_url", BrandingRules.UrlProblem(b.LogoUrl));
        Add("custom_css_url", BrandingRules.UrlProblem(b.CustomCssUrl));
        Add("primary_color", BrandingRules.ColorProblem(b.PrimaryColor));
        Add("product_name", BrandingRules.NameProblem(b.ProductName));
        Add("email_sender_name", BrandingRules.NameProblem(b.EmailSenderName));
        Add("logo_png", BrandingRules.LogoProblem(b.LogoPng));
        return errors.Count == 0 ? b : throw new ValidationFailedException(errors);
    }
}

internal sealed class GetPublicBrandingHandler(IDbSessionFactory sessions, TenantBrandingLookup lookup) : IRequestHandler<GetPublicBranding, PublicBranding>
{
    public async Task<PublicBranding> Handle(GetPublicBranding query, CancellationToken cancellationToken)
    {
        await using var session = await sessions.OpenAsync(query.TenantId, null, cancellationToken);
        var (tenant, branding) = await lookup.EffectiveAsync(session, query.TenantId, cancellationToken);
        if (tenant is null || tenant.Status is TenantStatus.Deleted || tenant.DeletedAt is not null)
        {
            throw new NotFoundException("tenant");
        }
        return new PublicBranding(tenant.Slug, tenant.Name, branding ?? TenantBranding.Empty);
    }
}

/// <summary>Reads, inside a session scoped to the tenant, the tenant and the branding it may use now: its stored branding while its plan (or an
/// operator's override) gives it the branding feature, else null; a downgrade keeps the row but stops showing it.</summary>
internal sealed class TenantBrandingLookup(ITenantDriver tenants, IFeatureOverrideDriver features, IBrandingDriver branding)
{
    /// <summary>Returns the tenant (null when the session cannot see it) and its effective branding (null when it has none or no branding feature).</summary>
    public async Task<(TenantSnapshot? Tenant, TenantBranding? Branding)> EffectiveAsync(IDbSession session, Guid tenantId, CancellationToken cancellationToken)
    {
        var tenant = await tenants.FetchTenantAsync(session, tenantId, cancellationToken);
        if (tenant is null)
        {
            return (null, null);
        }
        var overrides = await features.ListFeatureOverridesAsync(session, tenantId, cancellationToken);
        var plan = PlanCatalog.Find(tenant.Plan);
        if (plan is null || !Features.EffectiveOf(plan, tenant.Status, tenant.SuspendedReason, overrides).Contains(Features.Branding))
        {
            return (tenant, null);
        }
        return (tenant, await branding.FetchBrandingAsync(session, tenantId, cancellationToken));
    }
}
