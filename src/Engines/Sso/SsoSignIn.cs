using MediatR;
using Platform.Drivers.Invitations;
using Platform.Drivers.Plans;
using Platform.Drivers.Sessions;
using Platform.Drivers.Sso;
using Platform.Drivers.Tenants;
using Platform.Drivers.Users;
using Platform.Engines.Audit;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Plans;
using Platform.Models.Sso;
using Platform.Models.Tenants;
using Platform.Models.Users;

namespace Platform.Engines.Sso;

/// <summary>Starts an SSO sign-in for a tenant named by slug, or by the claimed domain of an email (home-realm discovery): keeps the state, PKCE
/// verifier and nonce (single use, Sso:SignInMinutes) and returns the identity provider's authorization URL to redirect the browser to.</summary>
public sealed record StartSsoSignIn(string? TenantSlug, string? Email, string RedirectUri) : IRequest<string>;

/// <summary>Finishes an SSO sign-in at the callback: takes the state (single use), trades the code at the tenant's identity provider, validates the
/// ID token and its nonce, links or creates the user and its membership (the mapped role), and returns a one-time code (Sso:CodeSeconds) that the
/// dashboard trades for a session. Every sign-in and every refusal is audited in the tenant.</summary>
public sealed record CompleteSsoSignIn(string? Code, string? State, string? Error, RequestOrigin? Origin) : IRequest<string>;

/// <summary>Trades a one-time SSO sign-in code (single use) for its user; 401 when the code is unknown, used or expired.</summary>
public sealed record RedeemSsoCode(string? Code) : IRequest<UserSnapshot>;

internal sealed class StartSsoSignInHandler(
    IDbSessionFactory sessions, ITenantDriver tenants, ISsoDriver sso, IOidcDriver oidc, SsoAccess access, SsoSecrets secrets, SsoOptions options, IClock clock)
    : IRequestHandler<StartSsoSignIn, string>
{
    public async Task<string> Handle(StartSsoSignIn command, CancellationToken cancellationToken)
    {
        if ((command.TenantSlug is null) == (command.Email is null))
        {
            throw ValidationFailedException.For("tenant", "Give exactly one of tenant (a slug) or email.");
        }
        string? domain = null;
        if (command.Email is not null && (command.Email.Length > 254 || (domain = SsoRules.DomainOfEmail(command.Email)) is null))
        {
            throw ValidationFailedException.For("email", "The email must be an address such as ada@example.com.");
        }
        if (command.TenantSlug is not null && !Slugs.IsValid(command.TenantSlug))
        {
            throw ValidationFailedException.For("tenant", "The tenant must be a tenant's slug.");
        }
        Guid? tenantId;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            tenantId = domain is not null
                ? await sso.FindTenantByDomainAsync(lookup, domain, cancellationToken)
                : await tenants.FindTenantIdBySlugAsync(lookup, command.TenantSlug!, cancellationToken);
        }
        if (tenantId is not { } id)
        {
            throw new NotFoundException("SSO configuration");
        }
        StoredSsoSettings stored;
        await using (var read = await sessions.OpenAsync(id, null, cancellationToken))
        {
            var tenant = await tenants.FetchTenantAsync(read, id, cancellationToken);
            stored = (tenant is null ? null : await sso.FetchSettingsAsync(read, id, cancellationToken)) ?? throw new NotFoundException("SSO configuration");
            if (!await access.HasSsoAsync(read, tenant!, cancellationToken))
            {
                throw NotInPlan(tenant!.Plan);
            }
        }
        var settings = stored.Settings;
        OidcEndpoints endpoints;
        try
        {
            endpoints = await oidc.DiscoverAsync(settings.Issuer, cancellationToken);
        }
        catch (SsoRefusedException refusal)
        {
            throw refusal.ToProblem();
        }
        var state = SsoSecrets.NewTenantSecret(SsoSecrets.StatePrefix, id);
        var verifier = SsoSecrets.Random();
        var nonce = SsoSecrets.Random();
        var now = clock.UtcNow;
        await using (var write = await sessions.OpenAsync(id, null, cancellationToken))
        {
            await sso.InsertStateAsync(write, SsoSecrets.Hash(state),
                new SsoSignInState(id, secrets.ProtectSignIn(id, verifier, nonce), command.RedirectUri, now.AddMinutes(options.SignInMinutes)), now, cancellationToken);
            await write.CommitAsync(cancellationToken);
        }
        var query = new List<KeyValuePair<string, string>>
        {
            new("response_type", "code"),
            new("client_id", settings.ClientId),
            new("redirect_uri", command.RedirectUri),
            new("scope", "openid email profile"),
            new("state", state),
            new("nonce", nonce),
            new("code_challenge", SsoSecrets.Challenge(verifier)),
            new("code_challenge_method", "S256"),
        };
        if (command.Email is not null)
        {
            query.Add(new("login_hint", command.Email));
        }
        var separator = endpoints.AuthorizationEndpoint.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        return endpoints.AuthorizationEndpoint + separator + string.Join("&", query.Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value)}"));
    }

    internal static ForbiddenException NotInPlan(string planName) =>
        new($"The tenant's {planName} plan does not include '{Features.Sso}'; it is in: {string.Join(", ", Features.PlansWith(Features.Sso))}.", "feature_not_in_plan")
        {
            Extensions = new Dictionary<string, object?> { ["feature"] = Features.Sso, ["plans"] = Features.PlansWith(Features.Sso) },
        };
}

internal sealed class CompleteSsoSignInHandler(
    IDbSessionFactory sessions, ITenantDriver tenants, IUserDriver users, ISsoDriver sso, IOidcDriver oidc, SsoAccess access, SsoSecrets secrets,
    AuditTrail audit, SsoOptions options, IClock clock, IInvitationDriver invitations, IQuotaDriver quotas)
    : IRequestHandler<CompleteSsoSignIn, string>
{
    public async Task<string> Handle(CompleteSsoSignIn command, CancellationToken cancellationToken)
    {
        if (SsoSecrets.TenantOf(command.State, SsoSecrets.StatePrefix) is not { } tenantId)
        {
            throw new SsoRefusedException(SsoRefusal.StateInvalid, "The sign-in state is missing or not one of ours; start the sign-in again.").ToProblem();
        }
        var caller = Caller.System with { Origin = command.Origin };
        OidcIdentity? identity = null;
        try
        {
            return await CompleteAsync(command, tenantId, caller, i => identity = i, cancellationToken);
        }
        catch (SsoRefusedException refusal)
        {
            await using var record = await sessions.OpenAsync(tenantId, null, CancellationToken.None);
            if (await tenants.FetchTenantAsync(record, tenantId, CancellationToken.None) is not null)
            {
                await audit.RecordAsync(record, tenantId, caller, "sso.sign_in_refused", "sso_sign_in", identity?.Subject, null,
                    new { reason = refusal.Reason.ToWire(), detail = refusal.Message, subject = identity?.Subject, email = identity?.Email }, CancellationToken.None);
                await record.CommitAsync(CancellationToken.None);
            }
            throw refusal.ToProblem();
        }
    }

    private async Task<string> CompleteAsync(CompleteSsoSignIn command, Guid tenantId, Caller caller, Action<OidcIdentity> seen, CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        SsoSignInState? state;
        StoredSsoSettings? stored;
        await using (var take = await sessions.OpenAsync(tenantId, null, cancellationToken))
        {
            // Taken and committed first: a state works once, whatever happens next.
            state = await sso.TakeStateAsync(take, tenantId, SsoSecrets.Hash(command.State!), now, cancellationToken);
            var tenant = await tenants.FetchTenantAsync(take, tenantId, cancellationToken);
            stored = tenant is null ? null : await sso.FetchSettingsAsync(take, tenantId, cancellationToken);
            if (state is not null && stored is not null && !await access.HasSsoAsync(take, tenant!, cancellationToken))
            {
                await take.CommitAsync(cancellationToken);
                throw new SsoRefusedException(SsoRefusal.FeatureNotInPlan, $"The tenant's plan does not include '{Features.Sso}'.");
            }
            await take.CommitAsync(cancellationToken);
        }
        if (state is null || stored is null)
        {
            throw new SsoRefusedException(SsoRefusal.StateInvalid, "The sign-in state is unknown, used or expired; start the sign-in again.");
        }
        if (command.Error is not null)
        {
            throw new SsoRefusedException(SsoRefusal.IdpError, $"The identity provider answered '{Cut(command.Error, 100)}'.");
        }
        if (string.IsNullOrEmpty(command.Code) || command.Code.Length > 2048)
        {
            throw new SsoRefusedException(SsoRefusal.IdpError, "The identity provider sent no authorization code.");
        }
        var settings = stored.Settings;
        var (verifier, nonce) = secrets.UnprotectSignIn(tenantId, state.ProtectedSecrets);
        var clientSecret = secrets.UnprotectClientSecret(tenantId, stored.ProtectedClientSecret);
        var identity = await oidc.RedeemCodeAsync(settings.Issuer, settings.ClientId, clientSecret, command.Code, verifier, state.RedirectUri, settings.GroupClaim, cancellationToken);
        seen(identity);
        if (!SsoSecrets.FixedTimeEquals(identity.Nonce, nonce))
        {
            throw new SsoRefusedException(SsoRefusal.NonceMismatch, "The ID token's nonce is not the one this sign-in sent.");
        }
        if (identity.Email is not { Length: > 0 and <= 254 } email || SsoRules.DomainOfEmail(email) is not { } domain)
        {
            throw new SsoRefusedException(SsoRefusal.EmailMissing, "The ID token carries no usable email claim (ask for the email scope).");
        }
        if (identity.EmailVerified == false)
        {
            throw new SsoRefusedException(SsoRefusal.EmailNotVerified, "The identity provider says the email address is not verified.");
        }
        if (!settings.Domains.Contains(domain))
        {
            throw new SsoRefusedException(SsoRefusal.EmailDomainNotAllowed, $"The email domain '{domain}' is not one of the tenant's SSO domains.");
        }

        Guid? userId;
        var jitUser = false;
        await using (var find = await sessions.OpenAsync(tenantId, null, cancellationToken))
        {
            // A domain whose TXT record went away (the re-check job sent it back to pending) vouches for nobody until it is verified again.
            if ((await sso.VerifiedDomainsAsync(find, [domain], cancellationToken)).Count == 0)
            {
                throw new SsoRefusedException(SsoRefusal.EmailDomainNotAllowed, $"The email domain '{domain}' is not a verified domain of the tenant now.");
            }
            userId = await sso.TouchIdentityAsync(find, tenantId, identity.Issuer, identity.Subject, now, cancellationToken);
            if (userId is null && await sso.FindUserByEmailAsync(find, email, cancellationToken) is { } existing)
            {
                userId = existing.Id;
            }
            await find.CommitAsync(cancellationToken);
        }
        if (userId is null)
        {
            userId = Guid.CreateVersion7();
            jitUser = true;
        }
        var code = SsoSecrets.NewTenantSecret(SsoSecrets.CodePrefix, tenantId);
        await using var session = await sessions.OpenAsync(tenantId, userId, cancellationToken);
        if (jitUser)
        {
            var name = string.IsNullOrWhiteSpace(identity.Name) ? email[..email.IndexOf('@')] : Cut(identity.Name.Trim(), 200);
            if (!await sso.TryInsertSsoUserAsync(session, userId.Value, email, name, now, cancellationToken))
            {
                throw new ConflictException("Another sign-in created this user at the same moment; try again.", "sign_in_race");
            }
        }
        var user = await users.FetchUserAsync(session, userId.Value, cancellationToken);
        if (user is null || user.Status != UserStatus.Active)
        {
            throw new SsoRefusedException(SsoRefusal.AccountDisabled, "The account is disabled.");
        }
        await sso.InsertIdentityAsync(session, tenantId, identity.Issuer, identity.Subject, userId.Value, now, cancellationToken);
        var membership = await tenants.FetchAccessAsync(session, tenantId, userId.Value, cancellationToken);
        var role = membership?.Role ?? settings.RoleFor(identity.Groups);
        if (membership is null)
        {
            await RequireSeatAsync(session, tenantId, now, cancellationToken);
            await tenants.InsertMembershipAsync(session, tenantId, userId.Value, role, now, cancellationToken);
        }
        await users.RecordLoginAsync(session, userId.Value, now, cancellationToken);
        await sso.InsertCodeAsync(session, tenantId, SsoSecrets.Hash(code), userId.Value, now, now.AddSeconds(options.CodeSeconds), cancellationToken);
        await audit.RecordAsync(session, tenantId, Caller.User(userId.Value) with { Origin = caller.Origin }, "sso.signed_in", "user", userId.Value, null,
            new { email, subject = identity.Subject, new_user = jitUser, new_membership = membership is null, role = role.ToWire(), groups = identity.Groups }, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return code;
    }

    /// <summary>Refuses a just-in-time membership when the tenant's seats are taken (ADR 0732): the effective members limit (plan or trial limits,
    /// then the operator's override; -1 unlimited) against members plus pending invitations, as an invitation counts them, under the tenant
    /// row's lock so that concurrent sign-ins admit exactly the free seats. The refusal rolls back the user and link this sign-in created.</summary>
    private async Task RequireSeatAsync(IDbSession session, Guid tenantId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await tenants.LockTenantAsync(session, tenantId, cancellationToken);
        var tenant = await tenants.FetchTenantAsync(session, tenantId, cancellationToken)
            ?? throw new SsoRefusedException(SsoRefusal.StateInvalid, "The tenant no longer exists.");
        var limit = EffectiveLimits.Of(tenant, await quotas.ListOverridesAsync(session, tenantId, cancellationToken))?.Members ?? PlanCatalog.Unlimited;
        if (limit == PlanCatalog.Unlimited)
        {
            return;
        }
        var (members, pending) = await invitations.CountSeatsAsync(session, tenantId, null, now, cancellationToken);
        if (members + pending >= limit)
        {
            throw new SsoRefusedException(SsoRefusal.SeatLimitReached,
                $"The tenant has no free seat ({members} members and {pending} pending invitations of {limit}); an admin can free a seat or raise the plan.");
        }
    }

    private static string Cut(string value, int length) => value[..Math.Min(value.Length, length)];
}

internal sealed class RedeemSsoCodeHandler(IDbSessionFactory sessions, IUserDriver users, ISsoDriver sso, IClock clock) : IRequestHandler<RedeemSsoCode, UserSnapshot>
{
    public async Task<UserSnapshot> Handle(RedeemSsoCode command, CancellationToken cancellationToken)
    {
        if (SsoSecrets.TenantOf(command.Code, SsoSecrets.CodePrefix) is not { } tenantId)
        {
            throw new UnauthorizedException("The sign-in code is not valid.");
        }
        Guid? userId;
        await using (var take = await sessions.OpenAsync(tenantId, null, cancellationToken))
        {
            userId = await sso.TakeCodeAsync(take, tenantId, SsoSecrets.Hash(command.Code!), clock.UtcNow, cancellationToken);
            await take.CommitAsync(cancellationToken);
        }
        if (userId is not { } id)
        {
            throw new UnauthorizedException("The sign-in code is unknown, already used or expired.");
        }
        await using var session = await sessions.OpenAsync(null, id, cancellationToken);
        var user = await users.FetchUserAsync(session, id, cancellationToken);
        return user is { Status: UserStatus.Active } ? user : throw new UnauthorizedException("The account no longer exists or is disabled.");
    }
}
