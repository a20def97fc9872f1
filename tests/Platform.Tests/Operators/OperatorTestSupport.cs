using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using Platform.Engines.Operators;

namespace Platform.Tests.Operators;

/// <summary>Creates operators through the engine (as the create-operator verb does) and signs them in over HTTP with a TOTP code computed here.</summary>
internal static class OperatorTestSupport
{
    public const string Password = "operator password 1";

    public static async Task<TestOperator> CreateAsync(string role, bool totp = true)
    {
        var email = $"{role}-{Guid.NewGuid():N}@staff.test";
        using var scope = TestApi.Services.CreateScope();
        var created = await scope.ServiceProvider.GetRequiredService<IMediator>()
            .Send(new CreateOperator(email, "Op " + role, role, Password, totp));
        return new TestOperator(created.Operator.Id, email, created.TotpSecret);
    }

    public static string Code(string secret) => new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(DateTime.UtcNow);

    public static Task<HttpResponseMessage> LogInAsync(string email, string password, string? totpCode) =>
        TestApi.Client().PostAsJsonAsync("/v1/admin/auth/login", new { email, password, totp_code = totpCode });

    /// <summary>Creates an operator of the role and returns a client holding its operator token.</summary>
    public static async Task<(TestOperator Operator, HttpClient Client)> SignedInAsync(string role, bool totp = true)
    {
        var op = await CreateAsync(role, totp);
        using var response = await LogInAsync(op.Email, Password, op.TotpSecret is null ? null : Code(op.TotpSecret));
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return (op, TestApi.Client((string)(await TestApi.ReadAsync(response))["access_token"]!));
    }
}

/// <summary>Is an operator created by a test, with its TOTP secret (null without TOTP).</summary>
internal sealed record TestOperator(Guid Id, string Email, string? TotpSecret);
