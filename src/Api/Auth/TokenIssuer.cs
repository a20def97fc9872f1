using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Platform.Api.Hosting;

namespace Platform.Api.Auth;

/// <summary>Issues and describes the validation of the HS256 access tokens of tenant users.</summary>
public sealed class TokenIssuer(AuthOptions options, TimeProvider time)
{
    public const string UserAudience = "platform-users";

    /// <summary>Is the audience of operator tokens; the user scheme refuses it and the operator scheme accepts nothing else.</summary>
    public const string OperatorAudience = "platform-operators";

    public const string OperatorRoleClaim = "operator_role";
    public const string MfaClaim = "mfa";

    /// <summary>Is the claim naming the user's session (ADR 0530): a user token is refused once its session is revoked.</summary>
    public const string SessionClaim = "sid";

    private readonly SymmetricSecurityKey key = CreateKey(options.SigningKey);

    public int LifetimeSeconds => options.TokenLifetimeMinutes * 60;

    public string IssueUserToken(Guid userId, string email, Guid sessionId)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = UserAudience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(LifetimeSeconds),
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, userId.ToString()),
                new Claim(JwtRegisteredClaimNames.Email, email),
                new Claim(SessionClaim, sessionId.ToString()),
            ]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }

    public int OperatorLifetimeSeconds => options.OperatorTokenLifetimeMinutes * 60;

    public string IssueOperatorToken(Guid operatorId, string email, string role, bool mfaVerified)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = OperatorAudience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddSeconds(OperatorLifetimeSeconds),
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, operatorId.ToString()),
                new Claim(JwtRegisteredClaimNames.Email, email),
                new Claim(OperatorRoleClaim, role),
                new Claim(MfaClaim, mfaVerified ? "true" : "false"),
            ]),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
    }

    public TokenValidationParameters OperatorValidation() => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = OperatorAudience,
        IssuerSigningKey = key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    public TokenValidationParameters UserValidation() => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = UserAudience,
        IssuerSigningKey = key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    private static SymmetricSecurityKey CreateKey(string base64)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(base64);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException("Auth:SigningKey must be base64.", e);
        }
        if (bytes.Length < 32)
        {
            throw new InvalidOperationException("Auth:SigningKey must hold at least 32 bytes (base64). ./platform run generates one in its data folder.");
        }
        return new SymmetricSecurityKey(bytes);
    }
}
