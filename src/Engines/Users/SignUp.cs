using FluentValidation;
using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Users;

namespace Platform.Engines.Users;

/// <summary>Creates a user account with a password.</summary>
public sealed record SignUp(string Email, string Password, string Name) : IRequest<UserSnapshot>;

internal sealed class SignUpValidator : AbstractValidator<SignUp>
{
    public SignUpValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254).EmailAddress();
        RuleFor(c => c.Password).NotEmpty().MinimumLength(8).MaximumLength(128);
        RuleFor(c => c.Name).NotEmpty().MaximumLength(200);
    }
}

internal sealed class SignUpHandler(IDbSessionFactory sessions, IUserDriver users, IPasswordHasher hasher, IClock clock)
    : IRequestHandler<SignUp, UserSnapshot>
{
    public async Task<UserSnapshot> Handle(SignUp command, CancellationToken cancellationToken)
    {
        var hash = hasher.Hash(command.Password);
        var id = Guid.CreateVersion7();
        await using var session = await sessions.OpenAsync(tenantId: null, userId: id, cancellationToken);
        var user = new NewUser(id, command.Email.Trim(), command.Name.Trim(), hash, clock.UtcNow);
        if (!await users.TryInsertUserAsync(session, user, cancellationToken))
        {
            throw new ConflictException("An account with this email already exists.", "email_taken");
        }
        var created = await users.FetchUserAsync(session, id, cancellationToken)
            ?? throw new InvalidOperationException("The new user is not visible to itself.");
        await session.CommitAsync(cancellationToken);
        return created;
    }
}
