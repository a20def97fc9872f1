using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Checks an email and password and returns the user, or refuses with 401 without saying which part was wrong.</summary>
public sealed record LogIn(string Email, string Password) : IRequest<UserSnapshot>;

internal sealed class LogInValidator : AbstractValidator<LogIn>
{
    public LogInValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254);
        RuleFor(c => c.Password).NotEmpty().MaximumLength(128);
    }
}

internal sealed class LogInHandler(IDbSessionFactory sessions, IUserDriver users, IPasswordHasher hasher, IClock clock)
    : IRequestHandler<LogIn, UserSnapshot>
{
    /// <summary>Is a valid hash of a random password, verified for unknown emails so that timing does not reveal which emails exist.</summary>
    private static readonly Lazy<string> DecoyHash = new(() => BCrypt.Net.BCrypt.EnhancedHashPassword(Guid.NewGuid().ToString(), 12));

    public async Task<UserSnapshot> Handle(LogIn command, CancellationToken cancellationToken)
    {
        UserCredentials? credentials;
        await using (var lookup = await sessions.OpenAsync(null, null, cancellationToken))
        {
            credentials = await users.FetchCredentialsByEmailAsync(lookup, command.Email.Trim(), cancellationToken);
        }

        var valid = hasher.Verify(command.Password, credentials?.PasswordHash ?? DecoyHash.Value);
        if (credentials is null || !valid || credentials.Status != "active")
        {
            throw new UnauthorizedException("The email or password is not correct.");
        }

        await using var session = await sessions.OpenAsync(null, credentials.Id, cancellationToken);
        await users.RecordLoginAsync(session, credentials.Id, clock.UtcNow, cancellationToken);
        var user = await users.FetchUserAsync(session, credentials.Id, cancellationToken)
            ?? throw new UnauthorizedException("The email or password is not correct.");
        await session.CommitAsync(cancellationToken);
        return user;
    }
}
