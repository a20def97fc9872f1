using MediatR;
using Platform.Drivers.Sso;
using Platform.Drivers.Tenants;
using Platform.Engines.Audit;
using Platform.Engines.Pipeline;
using Platform.Engines.Plans;
using Platform.Engines.Sessions;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Sso;
using Platform.Models.Tenants;

namespace Platform.Engines.Sso;

/// <summary>Holds a tenant's SSO settings as one caller may see them: the settings, whether a client secret is stored, and the caller's role (below admin sees a redacted view).</summary>
public sealed record SsoSettingsView(SsoSettings Settings, TenantRole CallerRole);

/// <summary>Reads a tenant's SSO settings (any member; the API redacts them below admin); 404 when SSO is not configured.</summary>
public sealed record GetSsoSettings(Caller Caller, Guid TenantId) : IRequest<SsoSettingsView>, ITenantRead, ICallerCommand;

/// <summary>Reads a tenant's SSO settings like <see cref="GetSsoSettings"/>, but answers null when SSO is not configured (the dashboard's first
/// visit asks this, so that "not configured" is an answer rather than a refused request; ADR 0785).</summary>
public sealed record FindSsoSettings(Caller Caller, Guid TenantId) : IRequest<SsoSettingsView?>, ITenantRead, ICallerCommand;

/// <summary>Creates or replaces a tenant's SSO settings (owner or admin): validates them, claims the email domains (409 domain_claimed when another
/// tenant holds one) and keeps the client secret under Data Protection (a null secret keeps the stored one).</summary>
public sealed record PutSsoSettings(Caller Caller, Guid TenantId, SsoSettingsInput Input) : IRequest<SsoSettingsView>, ITenantWrite, ICallerCommand;

/// <summary>Removes a tenant's SSO settings and releases its email domains (owner or admin); 404 when none.</summary>
public sealed record DeleteSsoSettings(Caller Caller, Guid TenantId) : IRequest<Unit>, ITenantWrite, ICallerCommand;

internal sealed class GetSsoSettingsHandler(TenantGate gate, ISsoDriver sso)
    : IRequestHandler<GetSsoSettings, SsoSettingsView>, IRequestHandler<FindSsoSettings, SsoSettingsView?>
{
    public async Task<SsoSettingsView> Handle(GetSsoSettings query, CancellationToken cancellationToken) =>
        await FindAsync(query.Caller, query.TenantId, cancellationToken) ?? throw new NotFoundException("SSO configuration");

    public Task<SsoSettingsView?> Handle(FindSsoSettings query, CancellationToken cancellationToken) =>
        FindAsync(query.Caller, query.TenantId, cancellationToken);

    private async Task<SsoSettingsView?> FindAsync(Caller caller, Guid tenantId, CancellationToken cancellationToken)
    {
        if (caller.Kind is not CallerKind.User)
        {
            throw new ForbiddenException("API keys cannot read SSO settings; sign in as a user.");
        }
        await using var scope = await gate.EnterAsync(tenantId, caller, TenantRole.Viewer, Access.Read, cancellationToken);
        var stored = await sso.FetchSettingsAsync(scope.Session, tenantId, cancellationToken);
        return stored is null ? null : new SsoSettingsView(stored.Settings, scope.Role);
    }
}

internal sealed class PutSsoSettingsHandler(TenantGate gate, ISsoDriver sso, ITenantDriver tenants, SsoDomainClaims claims, SsoSecrets secrets, AuditTrail audit, SsoOptions options, IClock clock)
    : IRequestHandler<PutSsoSettings, SsoSettingsView>
{
    public async Task<SsoSettingsView> Handle(PutSsoSettings command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind is not CallerKind.User)
        {
            throw new ForbiddenException("Only the tenant's owners and admins change its SSO settings.");
        }
        var valid = SsoSettingsValidation.Check(command.Input, options.AllowLoopbackIssuer);
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        var before = await sso.FetchSettingsAsync(scope.Session, command.TenantId, cancellationToken);
        string protectedSecret;
        if (command.Input.ClientSecret is { } secret)
        {
            protectedSecret = secrets.ProtectClientSecret(command.TenantId, secret);
        }
        else
        {
            protectedSecret = before?.ProtectedClientSecret
                ?? throw ValidationFailedException.For("client_secret", "A client secret is required when SSO is first configured.");
        }
        var settings = valid with { TenantId = command.TenantId, UpdatedAt = clock.UtcNow };
        await claims.ClaimAsync(scope.Session, settings.Domains, cancellationToken);
        await sso.UpsertSettingsAsync(scope.Session, new StoredSsoSettings(settings, protectedSecret), EntitlementRules.Actor(command.Caller), cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "sso.settings_updated", "sso_settings", command.TenantId,
            before is null ? null : AuditView(before.Settings, false), AuditView(settings, command.Input.ClientSecret is not null), cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return new SsoSettingsView(settings, scope.Role);
    }

    private static object AuditView(SsoSettings s, bool secretChanged) => new
    {
        s.Issuer, s.ClientId, s.Domains, default_role = s.DefaultRole.ToWire(), s.GroupClaim,
        group_roles = s.GroupRoles.ToDictionary(p => p.Key, p => p.Value.ToWire()), s.Enforce, client_secret_changed = secretChanged,
    };
}

internal sealed class DeleteSsoSettingsHandler(TenantGate gate, ISsoDriver sso, ITenantDriver tenants, SsoDomainClaims claims, AuditTrail audit)
    : IRequestHandler<DeleteSsoSettings, Unit>
{
    public async Task<Unit> Handle(DeleteSsoSettings command, CancellationToken cancellationToken)
    {
        if (command.Caller.Kind is not CallerKind.User)
        {
            throw new ForbiddenException("Only the tenant's owners and admins change its SSO settings.");
        }
        await using var scope = await gate.EnterAsync(command.TenantId, command.Caller, TenantRole.Admin, Access.Write, cancellationToken);
        await tenants.LockTenantAsync(scope.Session, command.TenantId, cancellationToken);
        if (!await sso.DeleteSettingsAsync(scope.Session, command.TenantId, cancellationToken))
        {
            throw new NotFoundException("SSO configuration");
        }
        await claims.ClaimAsync(scope.Session, [], cancellationToken);
        await audit.RecordAsync(scope.Session, command.TenantId, command.Caller, "sso.settings_deleted", "sso_settings", command.TenantId, null, null, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return Unit.Value;
    }
}

/// <summary>Checks SSO settings input and gives the normalised settings (tenant and time left blank), or refuses with 422 naming every bad field.</summary>
internal static class SsoSettingsValidation
{
    public static SsoSettings Check(SsoSettingsInput input, bool allowLoopbackIssuer)
    {
        var errors = new Dictionary<string, string[]>();
        if (!SsoRules.IsValidIssuer(input.Issuer, allowLoopbackIssuer))
        {
            errors["issuer"] = [allowLoopbackIssuer
                ? "The issuer must be an absolute https URL (or http on a loopback host) without query or fragment, on a public address."
                : "The issuer must be an absolute https URL without query or fragment, on a public address (not loopback, private, link-local or cloud metadata)."];
        }
        if (string.IsNullOrWhiteSpace(input.ClientId) || input.ClientId.Length > 255 || input.ClientId != input.ClientId.Trim())
        {
            errors["client_id"] = ["The client_id must be 1-255 characters without surrounding spaces."];
        }
        if (input.ClientSecret is { } secret && (secret.Length is 0 or > 1000))
        {
            errors["client_secret"] = ["The client_secret must be 1-1000 characters."];
        }
        var domains = new List<string>();
        if (input.Domains is { } given)
        {
            if (given.Count > SsoRules.MaxDomains)
            {
                errors["domains"] = [$"At most {SsoRules.MaxDomains} domains."];
            }
            for (var i = 0; i < given.Count; i++)
            {
                if (SsoRules.NormaliseDomain(given[i]) is { } domain)
                {
                    if (!domains.Contains(domain))
                    {
                        domains.Add(domain);
                    }
                }
                else
                {
                    errors[$"domains[{i}]"] = ["A domain must be a DNS name such as example.com (no IP address, wildcard, port or scheme)."];
                }
            }
        }
        var defaultRole = TenantRole.Member;
        if (input.DefaultRole is not null && !SsoRules.TryParseMemberRole(input.DefaultRole, out defaultRole))
        {
            errors["default_role"] = ["The default_role must be admin, member or viewer."];
        }
        if (input.GroupClaim is { } claim && (string.IsNullOrWhiteSpace(claim) || claim.Length > 100 || claim != claim.Trim()))
        {
            errors["group_claim"] = ["The group_claim must be 1-100 characters without surrounding spaces."];
        }
        var groupRoles = new Dictionary<string, TenantRole>(StringComparer.Ordinal);
        if (input.GroupRoles is { } mapping)
        {
            if (mapping.Count > SsoRules.MaxGroupRoles)
            {
                errors["group_roles"] = [$"At most {SsoRules.MaxGroupRoles} group mappings."];
            }
            if (mapping.Count > 0 && input.GroupClaim is null)
            {
                errors["group_claim"] = ["A group_claim is required with group_roles."];
            }
            foreach (var (group, role) in mapping)
            {
                if (group.Length is 0 or > 200)
                {
                    errors[$"group_roles.{group}"] = ["A group name must be 1-200 characters."];
                }
                else if (!SsoRules.TryParseMemberRole(role, out var parsed))
                {
                    errors[$"group_roles.{group}"] = ["A group's role must be admin, member or viewer."];
                }
                else
                {
                    groupRoles[group] = parsed;
                }
            }
        }
        if (errors.Count > 0)
        {
            throw new ValidationFailedException(errors);
        }
        return new SsoSettings(Guid.Empty, input.Issuer!, input.ClientId!, domains, defaultRole, input.GroupClaim, groupRoles, input.Enforce ?? false, default);
    }
}
