using MediatR;
using Platform.Drivers.Sessions;
using Platform.Drivers.Users;
using Platform.Models;
using Platform.Models.Users;

namespace Platform.Engines.Health;

/// <summary>Creates, inside a warm-up sandbox only, a user who can never sign in (no password hash bcrypt can parse): the owner of a warm-up
/// lane's tenant, made without the sign-up's bcrypt work, which one lane pays for all (ADR 0820). Outside a sandbox it refuses.</summary>
public sealed record CreateWarmUpOwner(string Email) : IRequest<Guid>;

internal sealed class CreateWarmUpOwnerHandler(IDbSessionFactory sessions, IUserDriver users, IClock clock) : IRequestHandler<CreateWarmUpOwner, Guid>
{
    /// <summary>Is the stored "hash": not a bcrypt hash, so that no password verifies against it.</summary>
    internal const string NoPassword = "!warm-up";

    public async Task<Guid> Handle(CreateWarmUpOwner command, CancellationToken cancellationToken)
    {
        if (!WarmUpSandbox.Active)
        {
            throw new InvalidOperationException("A warm-up owner is made only inside a warm-up sandbox.");
        }
        var id = Guid.CreateVersion7();
        var now = clock.UtcNow;
        await using var session = await sessions.OpenAsync(tenantId: null, userId: id, cancellationToken);
        if (!await users.TryInsertUserAsync(session, new NewUser(id, command.Email, "Warm-up", NoPassword, now), cancellationToken))
        {
            throw new InvalidOperationException("The warm-up owner's address is taken.");
        }
        await session.CommitAsync(cancellationToken);
        return id;
    }
}
