using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Operators;
using Platform.Models.Errors;

namespace Platform.Tests.Operators;

public sealed class OperatorAuthTests : DatabaseTest
{
    [Test]
    public async Task Super_admin_signs_in_with_a_totp_code_computed_from_the_printed_secret()
    {
        var op = await OperatorTestSupport.CreateAsync("super_admin");
        Assert.That(op.TotpSecret, Is.Not.Null.And.Length.GreaterThanOrEqualTo(26));

        using var response = await OperatorTestSupport.LogInAsync(op.Email.ToUpperInvariant(), OperatorTestSupport.Password, OperatorTestSupport.Code(op.TotpSecret!));

        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["access_token"], Is.Not.Empty);
            Assert.That((string?)body["token_type"], Is.EqualTo("Bearer"));
            Assert.That((bool?)body["mfa_verified"], Is.True);
            Assert.That((string?)body["operator"]!["role"], Is.EqualTo("super_admin"));
            Assert.That((string?)body["operator"]!["last_login_at"], Is.Not.Null);
            Assert.That(body["operator"]!.AsObject().ContainsKey("password_hash"), Is.False);
        });
    }

    [Test]
    public async Task A_totp_code_opens_one_login_only()
    {
        var op = await OperatorTestSupport.CreateAsync("super_admin");
        var code = OperatorTestSupport.Code(op.TotpSecret!);

        using var first = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, code);
        using var replay = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, code);

        await TestApi.ExpectAsync(first, HttpStatusCode.OK);
        var body = await TestApi.ExpectProblemAsync(replay, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.That((string?)body["detail"], Does.Contain("already been used"));
    }

    [Test]
    public async Task Super_admin_without_a_code_or_with_a_wrong_code_is_refused()
    {
        var op = await OperatorTestSupport.CreateAsync("super_admin");
        var wrong = ((int.Parse(OperatorTestSupport.Code(op.TotpSecret!), System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

        using var missing = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, null);
        using var wrongCode = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, wrong);
        using var wrongPassword = await OperatorTestSupport.LogInAsync(op.Email, "not the password", OperatorTestSupport.Code(op.TotpSecret!));

        await TestApi.ExpectProblemAsync(missing, HttpStatusCode.Unauthorized, "unauthorized");
        await TestApi.ExpectProblemAsync(wrongCode, HttpStatusCode.Unauthorized, "unauthorized");
        await TestApi.ExpectProblemAsync(wrongPassword, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Operator_without_totp_signs_in_with_mfa_not_verified()
    {
        var op = await OperatorTestSupport.CreateAsync("viewer", totp: false);

        using var response = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, null);

        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        Assert.That((bool?)(await TestApi.ReadAsync(response))["mfa_verified"], Is.False);
    }

    [Test]
    public void Super_admin_cannot_be_created_without_totp()
    {
        using var scope = TestApi.Services.CreateScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();

        var e = Assert.ThrowsAsync<ValidationFailedException>(() =>
            mediator.Send(new CreateOperator("root@staff.test", "Root", "super_admin", OperatorTestSupport.Password, EnableTotp: false)));

        Assert.That(e!.Errors.Keys, Does.Contain("enable_totp"));
    }

    [Test]
    public async Task Locks_after_exactly_five_failures_under_20_parallel_wrong_attempts()
    {
        var op = await OperatorTestSupport.CreateAsync("support", totp: false);

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            OperatorTestSupport.LogInAsync(op.Email, $"wrong password {i}", null)));

        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(LogInOperator.MaxFailures));
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(20 - LogInOperator.MaxFailures));
                Assert.That(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).All(r => r.Headers.RetryAfter is not null), Is.True);
            });
        }
        finally
        {
            foreach (var r in responses)
            {
                r.Dispose();
            }
        }

        // The right password does not open a locked account either.
        using var locked = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, null);
        var body = await TestApi.ExpectProblemAsync(locked, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That(DateTimeOffset.Parse((string)body["resets_at"]!, System.Globalization.CultureInfo.InvariantCulture),
            Is.GreaterThan(DateTimeOffset.UtcNow.AddMinutes(LogInOperator.LockMinutes - 1)));
    }

    [Test]
    public async Task A_success_clears_the_failure_count()
    {
        var op = await OperatorTestSupport.CreateAsync("support", totp: false);
        for (var i = 0; i < LogInOperator.MaxFailures - 1; i++)
        {
            using var wrong = await OperatorTestSupport.LogInAsync(op.Email, "wrong password", null);
            await TestApi.ExpectAsync(wrong, HttpStatusCode.Unauthorized);
        }
        using (var right = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, null))
        {
            await TestApi.ExpectAsync(right, HttpStatusCode.OK);
        }

        using var again = await OperatorTestSupport.LogInAsync(op.Email, "wrong password", null);

        await TestApi.ExpectProblemAsync(again, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Tenant_user_token_never_opens_an_admin_route()
    {
        var user = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(user);
        var client = TestApi.Client(user.Token);

        using var list = await client.GetAsync("/v1/admin/tenants");
        using var detail = await client.GetAsync($"/v1/admin/tenants/{tenantId}");
        using var suspend = await client.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/suspend", new { reason_code = "abuse" });

        Assert.Multiple(() =>
        {
            Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(detail.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(suspend.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task Operator_token_never_opens_a_tenant_route()
    {
        var user = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(user);
        var (_, client) = await OperatorTestSupport.SignedInAsync("super_admin");

        using var tenant = await client.GetAsync($"/v1/tenants/{tenantId}");
        using var tenants = await client.GetAsync("/v1/tenants");
        using var me = await client.GetAsync("/v1/me");
        using var admin = await client.GetAsync("/v1/admin/tenants");

        Assert.Multiple(() =>
        {
            Assert.That(tenant.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(tenants.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(me.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(admin.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Bad_login_input_gets_problem_details()
    {
        using var missing = await TestApi.Client().PostAsJsonAsync("/v1/admin/auth/login", new { password = "x" });
        using var broken = await TestApi.Client().SendAsync(TestApi.Request(HttpMethod.Post, "/v1/admin/auth/login", "{\"email\": "));

        var body = await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(body["errors"]!.AsObject().ContainsKey("email"), Is.True);
        await TestApi.ExpectProblemAsync(broken, HttpStatusCode.BadRequest, "validation_failed");
    }
}
