using FluentValidation;
using MediatR;
using Platform.Drivers.Email;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Engines.Email;
using Platform.Engines.Throttles;
using Platform.Models;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Creates a user account with a password and queues its email verification link; for an email that is already registered it answers the same way with a user that does not exist and emails the address's owner instead, so sign-up does not reveal which emails are registered.</summary>
public sealed record SignUp(string Email, string Password, string Name, string? Ip) : IRequest<UserSnapshot>;

internal sealed class SignUpValidator : AbstractValidator<SignUp>
{
    public SignUpValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254).EmailAddress();
        RuleFor(c => c.Password).NotEmpty().MinimumLength(8).MaximumLength(128);
        RuleFor(c => c.Name).NotEmpty().MaximumLength(200);
    }
}

internal sealed class SignUpHandler(
    IDbSessionFactory sessions, IUserDriver users, IPasswordHasher hasher, AuthThrottle throttle, EmailOutbox emails, AuthThrottleOptions limits, EmailOptions emailOptions, AccountEmails accountEmails, IClock clock)
    : IRequestHandler<SignUp, UserSnapshot>
{
    public async Task<UserSnapshot> Handle(SignUp command, CancellationToken cancellationToken)
    {
        // Sign-ups per client IP are counted (and committed) before any bcrypt work.
        await using (var reserve = await sessions.OpenAsync(null, null, cancellationToken))
        {
            await throttle.CountAsync(reserve, ThrottleRule.SignUpPerIp, AuthThrottle.IpSubject(command.Ip), limits.SignUpsPerHourPerIp, cancellationToken);
            await reserve.CommitAsync(cancellationToken);
        }

        // The hash is made either way, so a registered address takes as long as a new one.
        var hash = await hasher.HashAsync(command.Password, cancellationToken);
        var id = Guid.CreateVersion7();
        var email = command.Email.Trim();
        var name = command.Name.Trim();
        // PostgreSQL keeps microseconds: the time is cut to them so that an invented user's created_at looks like a stored one.
        var now = clock.UtcNow;
        now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
        await using var session = await sessions.OpenAsync(tenantId: null, userId: id, cancellationToken);
        if (!await users.TryInsertUserAsync(session, new NewUser(id, email, name, hash, now), cancellationToken))
        {
            // The address is registered (ADR 0187): the caller gets the answer a new account gets, for an id that belongs to no
            // one (its token authenticates to nothing), and the address's owner learns of the attempt by email.
            var signInUrl = $"{emailOptions.LinkBaseUrl.TrimEnd('/')}/login";
            await emails.EnqueueAsync(session, null, EmailTemplates.SignUpAttemptKind, EmailTemplates.SignUpAttempt(email, signInUrl), cancellationToken);
            await session.CommitAsync(cancellationToken);
            return new UserSnapshot(id, email, name, UserStatus.Active, null, null, "{}", null, now, now);
        }
        var created = await users.FetchUserAsync(session, id, cancellationToken)
            ?? throw new InvalidOperationException("The new user is not visible to itself.");
        // The verification link is queued with the account (ADR 0530): sent if and only if the account commits.
        await accountEmails.QueueVerificationAsync(session, id, email, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return created;
    }
}
