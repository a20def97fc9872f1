using System.Net;
using System.Net.Http.Json;

namespace Platform.Tests.Users;

public sealed class AuthApiTests : DatabaseTest
{
    [Test]
    public async Task Signup_returns_the_user_and_a_token_that_opens_me()
    {
        var user = await TestApi.SignUpAsync("Ada");
        using var response = await TestApi.Client(user.Token).GetAsync("/v1/me");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var me = await TestApi.ReadAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That((string?)me["user"]!["email"], Is.EqualTo(user.Email));
            Assert.That((string?)me["user"]!["name"], Is.EqualTo("Ada"));
            Assert.That(me["memberships"]!.AsArray(), Is.Empty);
        });
    }

    [Test]
    public async Task Login_with_the_right_password_issues_a_bearer_token_and_records_the_time()
    {
        var user = await TestApi.SignUpAsync();
        using var response = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = user.Email.ToUpperInvariant(), password = user.Password });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(response);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["token_type"], Is.EqualTo("Bearer"));
            Assert.That((int?)body["expires_in"], Is.EqualTo(900));
            Assert.That((string?)body["user"]!["last_login_at"], Is.Not.Null);
        });
        using var me = await TestApi.Client((string)body["access_token"]!).GetAsync("/v1/me");
        await TestApi.ExpectAsync(me, HttpStatusCode.OK);
    }

    [Test]
    public async Task Login_with_a_wrong_password_or_unknown_email_gets_401()
    {
        var user = await TestApi.SignUpAsync();
        using var wrong = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = "not the password" });
        await TestApi.ExpectProblemAsync(wrong, HttpStatusCode.Unauthorized, "unauthorized");
        using var unknown = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = "nobody@example.test", password = "whatever1" });
        await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Signup_with_a_taken_email_in_other_case_gets_201_as_a_new_email_does()
    {
        var user = await TestApi.SignUpAsync();
        using var response = await TestApi.Client().PostAsJsonAsync("/v1/auth/signup", new { email = user.Email.ToUpperInvariant(), password = "another password", name = "Twin" });
        await TestApi.ExpectAsync(response, HttpStatusCode.Created);
        Assert.That((string?)(await TestApi.ReadAsync(response))["user"]!["email"], Is.EqualTo(user.Email.ToUpperInvariant()));
    }

    [Test]
    public async Task Me_without_a_token_or_with_a_forged_token_gets_401()
    {
        using var none = await TestApi.Client().GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(none, HttpStatusCode.Unauthorized, "unauthorized");
        var forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJhdWQiOiJwbGF0Zm9ybS11c2VycyIsImlzcyI6InBsYXRmb3JtIn0.c2lnbmF0dXJl";
        using var bad = await TestApi.Client(forged).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(bad, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task The_stored_password_is_a_bcrypt_hash_of_cost_12()
    {
        var user = await TestApi.SignUpAsync();
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT password_hash FROM user_credentials_by_email(@e)", connection);
        command.Parameters.AddWithValue("e", user.Email);
        var hash = (string?)await command.ExecuteScalarAsync();
        Assert.That(hash, Does.StartWith("$2a$12$").Or.StartWith("$2b$12$"));
        Assert.That(hash, Does.Not.Contain(user.Password));
    }
}
