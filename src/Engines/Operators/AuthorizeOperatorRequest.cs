using MediatR;
using Platform.Drivers.Operators;
using Platform.Drivers.Sessions;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Engines.Operators;

/// <summary>Checks an operator token against the operator as it stands now, on every /v1/admin request: a disabled or removed operator gets 401, and a token without verified TOTP for an operator who needs it opens only the enrolment routes (403 totp_enrolment_required / mfa_required). Returns the operator (with its current role).</summary>
public sealed record AuthorizeOperatorRequest(Guid OperatorId, bool MfaVerified, bool EnrolmentRoute) : IRequest<OperatorSnapshot>;

internal sealed class AuthorizeOperatorRequestHandler(IDbSessionFactory sessions, IOperatorDriver operators)
    : IRequestHandler<AuthorizeOperatorRequest, OperatorSnapshot>
{
    public async Task<OperatorSnapshot> Handle(AuthorizeOperatorRequest request, CancellationToken cancellationToken)
    {
        OperatorSnapshot? current;
        await using (var session = await sessions.OpenAsync(null, null, cancellationToken))
        {
            current = await operators.FetchOperatorAsync(session, request.OperatorId, cancellationToken);
        }
        if (current is not { Status: OperatorStatus.Active })
        {
            throw new UnauthorizedException("The operator is disabled or no longer exists.");
        }
        if (request.EnrolmentRoute)
        {
            return current;
        }
        // A reset TOTP closes every route but enrolment, even to tokens signed in with the old code.
        if (current.TotpEnrolmentRequired || (current.NeedsMfa && !current.TotpEnabled))
        {
            throw new ForbiddenException(
                "Enrol TOTP first (POST /v1/admin/auth/totp/enroll, then /confirm), then sign in again with a code.", "totp_enrolment_required");
        }
        if (current.NeedsMfa && !request.MfaVerified)
        {
            throw new ForbiddenException("This operator needs a token signed in with a TOTP code; sign in again.", "mfa_required");
        }
        return current;
    }
}
