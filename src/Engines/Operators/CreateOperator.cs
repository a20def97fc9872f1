using FluentValidation;
using MediatR;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Creates an operator (from the command line or the demo seed, not over HTTP); with TOTP it returns the base32 secret and otpauth:// URI once. A given TotpSecret is used instead of a random one (the demo seed keeps its own).</summary>
public sealed record CreateOperator(string Email, string Name, string Role, string Password, bool EnableTotp, string? TotpSecret = null)
    : IRequest<CreatedOperator>;

internal sealed class CreateOperatorValidator : AbstractValidator<CreateOperator>
{
    public CreateOperatorValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254).EmailAddress();
        RuleFor(c => c.Name).NotEmpty().MaximumLength(200);
        RuleFor(c => c.Role).Must(r => WireNames.TryParse<OperatorRole>(r, out _)).WithMessage("Role must be super_admin, support, billing or viewer.");
        RuleFor(c => c.Password).MinimumLength(12).MaximumLength(128);
        RuleFor(c => c.EnableTotp).Equal(true).When(c => c.Role == "super_admin").WithMessage("TOTP is mandatory for super_admin.");
        RuleFor(c => c.TotpSecret).Must(s => s is null || TotpSecrets.IsValidSecret(s)).WithMessage("The TOTP secret must be base32 of at least 128 bits.");
    }
}

internal sealed class CreateOperatorHandler(IDbSessionFactory sessions, IOperatorDriver operators, IPasswordHasher hasher, TotpSecrets totp, IClock clock)
    : IRequestHandler<CreateOperator, CreatedOperator>
{
    public async Task<CreatedOperator> Handle(CreateOperator command, CancellationToken cancellationToken)
    {
        var email = command.Email.Trim();
        var secret = command.EnableTotp ? command.TotpSecret ?? TotpSecrets.NewSecret() : null;
        var id = Guid.CreateVersion7();
        var row = new NewOperator(
            id, email, command.Name.Trim(), WireNames.Parse<OperatorRole>(command.Role), await hasher.HashAsync(command.Password, cancellationToken),
            secret is null ? null : totp.Protect(secret), secret is not null, clock.UtcNow);

        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        if (!await operators.TryInsertOperatorAsync(session, row, cancellationToken))
        {
            throw new ConflictException("An operator with this email already exists.", "email_taken");
        }
        var created = await operators.FetchOperatorAsync(session, id, cancellationToken)
            ?? throw new InvalidOperationException("The new operator was not readable.");
        await session.CommitAsync(cancellationToken);
        return new CreatedOperator(created, secret, secret is null ? null : TotpSecrets.OtpAuthUri(email, secret));
    }
}
