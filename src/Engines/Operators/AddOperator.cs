using FluentValidation;
using MediatR;
using Platform.Engines.Sessions;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Engines.Pipeline;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Creates an operator over HTTP (super_admin only) with a founder action; with TOTP (mandatory for super_admin) the base32 secret and otpauth:// URI are returned once.</summary>
public sealed record AddOperator(Caller Caller, string Email, string Name, string Role, string Password, bool EnableTotp, string? ReasonCode, string? ReasonNote)
    : IRequest<CreatedOperator>, ICallerCommand;

internal sealed class AddOperatorValidator : AbstractValidator<AddOperator>
{
    public AddOperatorValidator()
    {
        RuleFor(c => c.Email).NotEmpty().MaximumLength(254).EmailAddress();
        RuleFor(c => c.Name).NotEmpty().MaximumLength(200);
        RuleFor(c => c.Role).Must(r => WireNames.TryParse<OperatorRole>(r, out _)).WithMessage("Role must be super_admin, support, billing or viewer.");
        RuleFor(c => c.Password).MinimumLength(12).MaximumLength(128);
        RuleFor(c => c.EnableTotp).Equal(true).When(c => c.Role == "super_admin").WithMessage("TOTP is mandatory for super_admin.");
        RuleFor(c => c.ReasonCode).MaximumLength(100).Matches(OperatorManagement.ReasonCodePattern).When(c => c.ReasonCode is not null);
        RuleFor(c => c.ReasonNote).MaximumLength(2000);
    }
}

internal sealed class AddOperatorHandler(
    IDbSessionFactory sessions, IOperatorDriver operators, IPasswordHasher hasher, TotpSecrets totp, FounderActionLog log, IClock clock)
    : IRequestHandler<AddOperator, CreatedOperator>
{
    public async Task<CreatedOperator> Handle(AddOperator command, CancellationToken cancellationToken)
    {
        OperatorGate.Require(command.Caller, OperatorRole.SuperAdmin);
        var email = command.Email.Trim();
        var role = WireNames.Parse<OperatorRole>(command.Role);
        var secret = command.EnableTotp ? TotpSecrets.NewSecret() : null;
        var id = Guid.CreateVersion7();
        var passwordHash = await hasher.HashAsync(command.Password, cancellationToken);

        await using var session = await sessions.OpenAsync(null, null, cancellationToken);
        await OperatorManagement.EnterAsync(operators, session, command.Caller, cancellationToken);
        var row = new NewOperator(id, email, command.Name.Trim(), role, passwordHash, secret is null ? null : totp.Protect(secret), secret is not null, clock.UtcNow);
        if (!await operators.TryInsertOperatorAsync(session, row, cancellationToken))
        {
            throw new ConflictException("An operator with this email already exists.", "email_taken");
        }
        var created = await operators.FetchOperatorAsync(session, id, cancellationToken)
            ?? throw new InvalidOperationException("The new operator was not readable.");
        await log.AppendAsync(session, command.Caller, "operator.create", "operator", id.ToString(), null,
            command.ReasonCode ?? OperatorManagement.DefaultReasonCode, command.ReasonNote, false, null,
            new { email, role = role.ToWire(), totp_enabled = secret is not null }, cancellationToken);
        await session.CommitAsync(cancellationToken);
        return new CreatedOperator(created, secret, secret is null ? null : TotpSecrets.OtpAuthUri(email, secret));
    }
}
