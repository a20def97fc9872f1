using Platform.Drivers.Sessions;
using Platform.Drivers.Sso;
using Platform.Drivers.Tenants;
using Platform.Models.Errors;
using Platform.Models.Sso;

namespace Platform.Engines.Sso;

/// <summary>Refuses a password sign-in of a user who must use SSO: their email's domain is claimed by a tenant that has the sso feature, enforces
/// SSO and counts them as a member (ADR 0620: the password is refused for the whole account, not only for that tenant).</summary>
internal sealed class SsoEnforcement(IDbSessionFactory sessions, ITenantDriver tenants, ISsoDriver sso, SsoAccess access)
{
    /// <summary>Throws 403 sso_required (with the tenant and the sign-in URL) when the user must sign in through their tenant's SSO.</summary>
    public async Task RequirePasswordAllowedAsync(Guid userId, string email, CancellationToken cancellationToken)
    {
        if (SsoRules.DomainOfEmail(email) is not { } domain)
        {
            return;
        }
        Guid? tenantId;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            tenantId = await sso.FindTenantByDomainAsync(lookup, domain, cancellationToken);
        }
        if (tenantId is not { } id)
        {
            return;
        }
        await using var session = await sessions.OpenAsync(id, userId, cancellationToken);
        var membership = await tenants.FetchAccessAsync(session, id, userId, cancellationToken);
        if (membership is null || await sso.FetchSettingsAsync(session, id, cancellationToken) is not { Settings.Enforce: true }
            || !await access.HasSsoAsync(session, membership.Tenant, cancellationToken))
        {
            return;
        }
        var slug = membership.Tenant.Slug;
        throw new ForbiddenException($"Your organisation ({slug}) requires single sign-on for {domain} addresses; sign in through SSO.", "sso_required")
        {
            Extensions = new Dictionary<string, object?>
            {
                ["tenant"] = slug,
                ["sso_start_url"] = "/v1/auth/sso/start?tenant=" + Uri.EscapeDataString(slug),
            },
        };
    }
}
