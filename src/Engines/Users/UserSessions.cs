using System.Collections.Concurrent;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Holds what a sign-in, sign-up or refresh grants: the session (the access token's sid) and its current refresh token.</summary>
public sealed record SessionGrant(Guid SessionId, string RefreshToken);

/// <summary>Holds a refreshed session: the user (for the access token's claims) and the new grant.</summary>
public sealed record RefreshedSession(UserSnapshot User, SessionGrant Grant);

/// <summary>Remembers, per instance, whether sessions were live when last checked, for Accounts:SessionCheckSeconds (ADR 0530); revocations on this instance forget at once.</summary>
internal sealed class SessionLiveness(AccountOptions options, IClock clock)
{
    private const int MostEntries = 100_000;
    private readonly ConcurrentDictionary<Guid, (bool Live, DateTimeOffset Until)> known = new();

    public bool? Lookup(Guid sessionId) =>
        known.TryGetValue(sessionId, out var entry) && entry.Until > clock.UtcNow ? entry.Live : null;

    public void Remember(Guid sessionId, bool live)
    {
        if (options.SessionCheckSeconds <= 0)
        {
            return;
        }
        if (known.Count >= MostEntries)
        {
            known.Clear();
        }
        known[sessionId] = (live, clock.UtcNow.AddSeconds(options.SessionCheckSeconds));
    }

    public void Forget(IEnumerable<Guid> sessionIds)
    {
        foreach (var id in sessionIds)
        {
            known[id] = (false, DateTimeOffset.MaxValue);
        }
    }
}

/// <summary>Opens a session for a user who just proved who they are (login, sign-up); for a user that does not exist or is not active (sign-up of a registered address, ADR 0187) it grants a session that exists nowhere, so the answer has the same shape.</summary>
public sealed record OpenSession(Guid UserId, string? UserAgent, string? Ip) : IRequest<SessionGrant>;

internal sealed class OpenSessionHandler(IDbSessionFactory sessions, IUserDriver users, IAccountDriver accounts, AccountOptions options, IClock clock)
    : IRequestHandler<OpenSession, SessionGrant>
{
    public async Task<SessionGrant> Handle(OpenSession command, CancellationToken cancellationToken)
    {
        var (refresh, hash) = AccountSecrets.New(AccountSecrets.RefreshPrefix);
        var id = Guid.CreateVersion7();
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(null, command.UserId, cancellationToken);
        var user = await users.FetchUserAsync(session, command.UserId, cancellationToken);
        if (user is null || user.Status != UserStatus.Active)
        {
            return new SessionGrant(id, refresh);
        }
        await accounts.InsertSessionAsync(session, new NewUserSession(
            id, command.UserId, hash, now, now.AddDays(options.RefreshTokenLifetimeDays), Cut(command.UserAgent, 512), Cut(command.Ip, 64)), cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new SessionGrant(id, refresh);
    }

    private static string? Cut(string? value, int length) => value is null ? null : value[..Math.Min(value.Length, length)];
}

/// <summary>Trades a refresh token for a new one (rotation); a rotated token used again revokes its whole session (OAuth 2.0 Security BCP), so of two parallel uses of one token exactly one succeeds and the session ends (ADR 0530).</summary>
public sealed record RefreshSession(string RefreshToken) : IRequest<RefreshedSession>;

internal sealed class RefreshSessionHandler(
    IDbSessionFactory sessions, IUserDriver users, IAccountDriver accounts, SessionLiveness liveness, AccountOptions options, IClock clock)
    : IRequestHandler<RefreshSession, RefreshedSession>
{
    public async Task<RefreshedSession> Handle(RefreshSession command, CancellationToken cancellationToken)
    {
        if (!AccountSecrets.LooksLike(command.RefreshToken, AccountSecrets.RefreshPrefix))
        {
            throw new UnauthorizedException("The refresh token is not valid.");
        }
        var (next, nextHash) = AccountSecrets.New(AccountSecrets.RefreshPrefix);
        var now = clock.UtcNow;
        RefreshResult result;
        // Committed on its own: a detected reuse or an expiry revokes the session even though the caller is refused.
        await using (var rotation = await sessions.OpenAsync(null, null, cancellationToken))
        {
            result = await accounts.RotateRefreshTokenAsync(
                rotation, AccountSecrets.Hash(command.RefreshToken), nextHash, now, options.RefreshTokenIdleDays * 86_400, cancellationToken);
            await rotation.CommitAsync(cancellationToken);
        }
        if (result is not { Outcome: RefreshOutcome.Rotated, SessionId: { } sessionId, UserId: { } userId })
        {
            if (result is { SessionId: { } revoked, UserId: { } owner })
            {
                liveness.Forget([revoked]);
                if (result.Outcome == RefreshOutcome.Reused)
                {
                    await using var record = await sessions.OpenAsync(null, owner, CancellationToken.None);
                    await accounts.RecordEventAsync(record, owner, "session.refresh_reused", revoked, null, null, now, CancellationToken.None);
                    await record.CommitAsync(CancellationToken.None);
                }
            }
            throw new UnauthorizedException(result.Outcome switch
            {
                RefreshOutcome.Reused => "The refresh token was already used; the session is revoked. Sign in again.",
                RefreshOutcome.Expired => "The session has expired. Sign in again.",
                _ => "The refresh token is not valid.",
            });
        }
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        var user = await users.FetchUserAsync(session, userId, cancellationToken)
            ?? throw new UnauthorizedException("The account no longer exists or is disabled.");
        return new RefreshedSession(user, new SessionGrant(sessionId, next));
    }
}

/// <summary>Says whether an access token's session is still live (not revoked, not expired, user active), trusting this instance's last answer for Accounts:SessionCheckSeconds.</summary>
public sealed record CheckSession(Guid UserId, Guid SessionId) : IRequest<bool>;

internal sealed class CheckSessionHandler(IDbSessionFactory sessions, IAccountDriver accounts, SessionLiveness liveness, IClock clock)
    : IRequestHandler<CheckSession, bool>
{
    public async Task<bool> Handle(CheckSession query, CancellationToken cancellationToken)
    {
        if (liveness.Lookup(query.SessionId) is { } known)
        {
            return known;
        }
        await using var session = await sessions.OpenAsync(null, query.UserId, cancellationToken);
        // Row-level security shows only the user's own sessions: a sid of someone else's session reads as not live.
        var live = await accounts.IsSessionLiveAsync(session, query.SessionId, clock.UtcNow, cancellationToken);
        liveness.Remember(query.SessionId, live);
        return live;
    }
}

/// <summary>Ends the caller's current session (SessionId, from the access token) and, when a refresh token of the same user is given, its session; with only a refresh token (an expired access token) ends that token's session.</summary>
public sealed record LogOut(Caller? Caller, Guid? SessionId, string? RefreshToken) : IRequest<Unit>;

internal sealed class LogOutHandler(IDbSessionFactory sessions, IAccountDriver accounts, SessionLiveness liveness, IClock clock)
    : IRequestHandler<LogOut, Unit>
{
    public async Task<Unit> Handle(LogOut command, CancellationToken cancellationToken)
    {
        Guid? userId = command.Caller?.UserId;
        var ended = new List<Guid>();
        if (command.RefreshToken is { Length: > 0 } refresh)
        {
            (Guid SessionId, Guid UserId)? found = null;
            if (AccountSecrets.LooksLike(refresh, AccountSecrets.RefreshPrefix))
            {
                await using var lookup = await sessions.OpenAsync(null, null, cancellationToken);
                found = await accounts.FindSessionByRefreshHashAsync(lookup, AccountSecrets.Hash(refresh), cancellationToken);
            }
            if (found is { } f && (userId is null || userId == f.UserId))
            {
                userId = f.UserId;
                ended.Add(f.SessionId);
            }
            else if (userId is null)
            {
                throw new UnauthorizedException("The refresh token is not valid.");
            }
        }
        if (command.SessionId is { } current)
        {
            ended.Add(current);
        }
        if (userId is not { } owner || ended.Count == 0)
        {
            throw new UnauthorizedException("A valid access token or refresh token is required.");
        }
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(null, owner, cancellationToken);
        foreach (var id in ended.Distinct())
        {
            if (await accounts.RevokeSessionAsync(session, id, now, "logout", cancellationToken))
            {
                await accounts.RecordEventAsync(session, owner, "session.logged_out", id, command.Caller?.Origin?.Ip, command.Caller?.Origin?.UserAgent, now, cancellationToken);
            }
        }
        await session.CommitAsync(cancellationToken);
        liveness.Forget(ended);
        return Unit.Value;
    }
}

/// <summary>Lists the signed-in user's live sessions.</summary>
public sealed record ListMySessions(Caller Caller) : IRequest<IReadOnlyList<UserSessionSnapshot>>;

internal sealed class ListMySessionsHandler(IDbSessionFactory sessions, IAccountDriver accounts, IClock clock)
    : IRequestHandler<ListMySessions, IReadOnlyList<UserSessionSnapshot>>
{
    public async Task<IReadOnlyList<UserSessionSnapshot>> Handle(ListMySessions query, CancellationToken cancellationToken)
    {
        var userId = query.Caller.RequireUserId();
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        return await accounts.ListLiveSessionsAsync(session, clock.UtcNow, cancellationToken);
    }
}

/// <summary>Revokes one of the signed-in user's sessions; another user's session id, or one already ended, is 404.</summary>
public sealed record RevokeMySession(Caller Caller, Guid SessionId) : IRequest<Unit>;

internal sealed class RevokeMySessionHandler(IDbSessionFactory sessions, IAccountDriver accounts, SessionLiveness liveness, IClock clock)
    : IRequestHandler<RevokeMySession, Unit>
{
    public async Task<Unit> Handle(RevokeMySession command, CancellationToken cancellationToken)
    {
        var userId = command.Caller.RequireUserId();
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        if (!await accounts.RevokeSessionAsync(session, command.SessionId, now, "revoked_by_user", cancellationToken))
        {
            throw new NotFoundException("session");
        }
        await accounts.RecordEventAsync(session, userId, "session.revoked", command.SessionId, command.Caller.Origin?.Ip, command.Caller.Origin?.UserAgent, now, cancellationToken);
        await session.CommitAsync(cancellationToken);
        liveness.Forget([command.SessionId]);
        return Unit.Value;
    }
}
