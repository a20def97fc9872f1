using FluentValidation;
using MediatR;
using Platform.Drivers.Email;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Engines.Email;
using Platform.Engines.Throttles;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Queues the account emails whose link carries a one-time token: the token is an outbox secret (never stored in clear) and only its hash is kept.</summary>
internal sealed class AccountEmails(IAccountDriver accounts, EmailOutbox emails, EmailOptions emailOptions, AccountOptions options, IClock clock)
{
    private const string TokenSecret = "token";

    public async Task QueueVerificationAsync(IDbSession session, Guid userId, string email, CancellationToken cancellationToken)
    {
        var (token, hash) = AccountSecrets.New(AccountSecrets.VerifyPrefix);
        var now = clock.UtcNow;
        var expiresAt = now.AddHours(options.VerificationTokenHours);
        await accounts.InsertTokenAsync(session, hash, userId, AccountTokenPurpose.VerifyEmail, now, expiresAt, cancellationToken);
        var url = $"{emailOptions.LinkBaseUrl.TrimEnd('/')}/verify-email?token={EmailOutbox.Placeholder(TokenSecret)}";
        await emails.EnqueueAsync(session, null, EmailTemplates.VerifyEmailKind, EmailTemplates.VerifyEmail(email, url, expiresAt),
            new Dictionary<string, string> { [TokenSecret] = token }, expiresAt, cancellationToken);
    }

    public async Task QueueResetAsync(IDbSession session, Guid userId, string email, CancellationToken cancellationToken)
    {
        var (token, hash) = AccountSecrets.New(AccountSecrets.ResetPrefix);
        var now = clock.UtcNow;
        var expiresAt = now.AddMinutes(options.ResetTokenMinutes);
        await accounts.InsertTokenAsync(session, hash, userId, AccountTokenPurpose.ResetPassword, now, expiresAt, cancellationToken);
        var url = $"{emailOptions.LinkBaseUrl.TrimEnd('/')}/reset-password?token={EmailOutbox.Placeholder(TokenSecret)}";
        await emails.EnqueueAsync(session, null, EmailTemplates.PasswordResetKind, EmailTemplates.PasswordReset(email, url, expiresAt),
            new Dictionary<string, string> { [TokenSecret] = token }, expiresAt, cancellationToken);
    }
}

/// <summary>Verifies the email of the account whose verification token this is (single use, Accounts:VerificationTokenHours); anyone holding the link may use it.</summary>
public sealed record VerifyEmail(string Token) : IRequest<Unit>;

internal sealed class VerifyEmailHandler(IDbSessionFactory sessions, IAccountDriver accounts, IClock clock) : IRequestHandler<VerifyEmail, Unit>
{
    public async Task<Unit> Handle(VerifyEmail command, CancellationToken cancellationToken)
    {
        var userId = await AccountTokenUse.UseAsync(sessions, accounts, command.Token, AccountSecrets.VerifyPrefix, AccountTokenPurpose.VerifyEmail, clock.UtcNow, cancellationToken);
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        if (!await accounts.MarkEmailVerifiedAsync(session, userId, clock.UtcNow, cancellationToken))
        {
            throw AccountTokenUse.Invalid();
        }
        await accounts.RecordEventAsync(session, userId, "email.verified", null, null, null, clock.UtcNow, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return Unit.Value;
    }
}

/// <summary>Uses one-time account tokens: unknown, used, expired or malformed ones get the same 422.</summary>
internal static class AccountTokenUse
{
    public static ValidationFailedException Invalid() =>
        ValidationFailedException.For("token", "The token is not valid: it is unknown, already used or expired.");

    /// <summary>Marks the token used in a transaction of its own (committed at once: a token works once even if what follows fails) and returns its user.</summary>
    public static async Task<Guid> UseAsync(
        IDbSessionFactory sessions, IAccountDriver accounts, string token, string prefix, AccountTokenPurpose purpose, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!AccountSecrets.LooksLike(token, prefix))
        {
            throw Invalid();
        }
        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        var userId = await accounts.UseTokenAsync(session, AccountSecrets.Hash(token), purpose, now, cancellationToken) ?? throw Invalid();
        await session.CommitAsync(cancellationToken);
        return userId;
    }
}

/// <summary>Sends the signed-in user a new verification email; 409 already_verified once verified; limited to Accounts:VerificationResendsPerHour (429 rate_limited).</summary>
public sealed record ResendVerification(Caller Caller) : IRequest<Unit>;

internal sealed class ResendVerificationHandler(
    IDbSessionFactory sessions, IUserDriver users, AuthThrottle throttle, AccountEmails emails, AccountOptions options)
    : IRequestHandler<ResendVerification, Unit>
{
    public async Task<Unit> Handle(ResendVerification command, CancellationToken cancellationToken)
    {
        var userId = command.Caller.RequireUserId();
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        var user = await users.FetchUserAsync(session, userId, cancellationToken);
        if (user is null || user.Status != UserStatus.Active)
        {
            throw new UnauthorizedException("The account no longer exists or is disabled.");
        }
        if (user.EmailVerifiedAt is not null)
        {
            throw new ConflictException("The email address is already verified.", "already_verified");
        }
        // Counted in the same transaction as the email: a refused resend neither counts nor queues.
        await throttle.CountAsync(session, ThrottleRule.VerificationResendPerUser, userId.ToString("N"), options.VerificationResendsPerHour, cancellationToken);
        await emails.QueueVerificationAsync(session, userId, user.Email, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return Unit.Value;
    }
}

/// <summary>Emails a password reset link to the address when it has an active account; answers the same way for any address, counted per email and per client IP (429 rate_limited past either limit).</summary>
public sealed record ForgotPassword(string Email, string? Ip) : IRequest<Unit>;

internal sealed class ForgotPasswordValidator : AbstractValidator<ForgotPassword>
{
    public ForgotPasswordValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254);
    }
}

internal sealed class ForgotPasswordHandler(
    IDbSessionFactory sessions, IUserDriver users, AuthThrottle throttle, AccountEmails emails, AccountOptions options)
    : IRequestHandler<ForgotPassword, Unit>
{
    public async Task<Unit> Handle(ForgotPassword command, CancellationToken cancellationToken)
    {
        var email = command.Email.Trim();
        UserCredentials? credentials;
        // Counted and committed first, before the address is looked up: known and unknown addresses use up the same allowance.
        await using (var reserve = await sessions.OpenAsync(null, null, cancellationToken))
        {
            await throttle.CountAsync(reserve, ThrottleRule.PasswordResetPerIp, AuthThrottle.IpSubject(command.Ip), options.PasswordResetsPerHourPerIp, cancellationToken);
            await throttle.CountAsync(reserve, ThrottleRule.PasswordResetPerEmail, AuthThrottle.EmailSubject(email), options.PasswordResetsPerHourPerEmail, cancellationToken);
            credentials = await users.FetchCredentialsByEmailAsync(reserve, email, cancellationToken);
            await reserve.CommitAsync(cancellationToken);
        }
        if (credentials is not { Status: UserStatus.Active })
        {
            // The token a known address would get is still made, so both answers cost about the same.
            _ = AccountSecrets.New(AccountSecrets.ResetPrefix);
            return Unit.Value;
        }
        await using var session = await sessions.OpenAsync(null, credentials.Id, cancellationToken);
        var user = await users.FetchUserAsync(session, credentials.Id, cancellationToken);
        if (user is not null)
        {
            await emails.QueueResetAsync(session, user.Id, user.Email, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        return Unit.Value;
    }
}

/// <summary>Sets a new password with a reset token (single use, Accounts:ResetTokenMinutes), revokes every session of the user and marks the email verified (the link proved control of it).</summary>
public sealed record ResetPassword(string Token, string Password) : IRequest<Unit>;

internal sealed class ResetPasswordValidator : AbstractValidator<ResetPassword>
{
    public ResetPasswordValidator()
    {
        RuleFor(c => c.Token).NotEmpty().MaximumLength(100);
        RuleFor(c => c.Password).NotEmpty().MinimumLength(8).MaximumLength(128);
    }
}

internal sealed class ResetPasswordHandler(
    IDbSessionFactory sessions, IAccountDriver accounts, IPasswordHasher hasher, SessionLiveness liveness, IClock clock)
    : IRequestHandler<ResetPassword, Unit>
{
    public async Task<Unit> Handle(ResetPassword command, CancellationToken cancellationToken)
    {
        if (!AccountSecrets.LooksLike(command.Token, AccountSecrets.ResetPrefix))
        {
            throw AccountTokenUse.Invalid();
        }
        // Hashed before the token is used: a refusal for saturated hashing (429) leaves the token working.
        var hash = await hasher.HashAsync(command.Password, cancellationToken);
        var userId = await AccountTokenUse.UseAsync(sessions, accounts, command.Token, AccountSecrets.ResetPrefix, AccountTokenPurpose.ResetPassword, clock.UtcNow, cancellationToken);
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        if (!await accounts.SetPasswordHashAsync(session, userId, hash, now, cancellationToken))
        {
            throw AccountTokenUse.Invalid();
        }
        await accounts.MarkEmailVerifiedAsync(session, userId, now, cancellationToken);
        var revoked = await accounts.RevokeAllSessionsAsync(session, userId, except: null, now, "password_reset", cancellationToken);
        await accounts.RecordEventAsync(session, userId, "password.reset", null, null, null, now, cancellationToken);
        await session.CommitAsync(cancellationToken);
        liveness.Forget(revoked);
        return Unit.Value;
    }
}

/// <summary>Changes the signed-in user's password after checking the current one (wrong ones limited per user like logins), and revokes every other session of the user.</summary>
public sealed record ChangeMyPassword(Caller Caller, Guid? SessionId, string CurrentPassword, string NewPassword) : IRequest<Unit>;

internal sealed class ChangeMyPasswordValidator : AbstractValidator<ChangeMyPassword>
{
    public ChangeMyPasswordValidator()
    {
        RuleFor(c => c.CurrentPassword).NotEmpty().MaximumLength(128);
        RuleFor(c => c.NewPassword).NotEmpty().MinimumLength(8).MaximumLength(128);
    }
}

internal sealed class ChangeMyPasswordHandler(
    IDbSessionFactory sessions, IAccountDriver accounts, IPasswordHasher hasher, AuthThrottle throttle, AccountOptions options,
    SessionLiveness liveness, IClock clock)
    : IRequestHandler<ChangeMyPassword, Unit>
{
    public async Task<Unit> Handle(ChangeMyPassword command, CancellationToken cancellationToken)
    {
        var userId = command.Caller.RequireUserId();
        string? current;
        ThrottleTicket? failure;
        await using (var reserve = await sessions.OpenAsync(null, userId, cancellationToken))
        {
            failure = await throttle.CountAsync(
                reserve, ThrottleRule.PasswordChangePerUser, userId.ToString("N"), options.PasswordChangeFailuresPerMinute, cancellationToken);
            current = await accounts.FetchPasswordHashAsync(reserve, userId, cancellationToken);
            await reserve.CommitAsync(cancellationToken);
        }
        if (current is null || !await hasher.VerifyAsync(command.CurrentPassword, current, cancellationToken))
        {
            throw ValidationFailedException.For("current_password", "The current password is not correct.");
        }
        var hash = await hasher.HashAsync(command.NewPassword, cancellationToken);
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(null, userId, cancellationToken);
        await throttle.RefundAsync(session, failure, cancellationToken);
        if (!await accounts.SetPasswordHashAsync(session, userId, hash, now, cancellationToken))
        {
            throw new UnauthorizedException("The account no longer exists or is disabled.");
        }
        var revoked = await accounts.RevokeAllSessionsAsync(session, userId, command.SessionId, now, "password_changed", cancellationToken);
        await accounts.RecordEventAsync(session, userId, "password.changed", command.SessionId, command.Caller.Origin?.Ip, command.Caller.Origin?.UserAgent, now, cancellationToken);
        await session.CommitAsync(cancellationToken);
        liveness.Forget(revoked);
        return Unit.Value;
    }
}
