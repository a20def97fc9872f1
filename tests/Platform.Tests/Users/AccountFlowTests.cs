using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Email;
using Platform.Engines.Users;
using Platform.Tests.Email;

namespace Platform.Tests.Users;

/// <summary>Email verification, password reset and change, lasting sessions (refresh rotation with reuse detection) and PATCH /v1/me (ADR 0530).</summary>
public sealed partial class AccountFlowTests : DatabaseTest
{
    private const string NewPassword = "a brand new passphrase";

    [Test]
    public async Task Signup_emails_a_verification_link_that_verifies_once()
    {
        await using var smtp = new SmtpTestServer();
        var user = await TestApi.SignUpAsync();
        Assert.That(await EmailedVerifiedAsync(user), Is.False);
        Assert.That(await OwnerSql.ScalarAsync<long>(
            "SELECT count(*) FROM account_tokens WHERE purpose = 'verify_email' AND expires_at BETWEEN now() + interval '23 hours' AND now() + interval '25 hours'", null, user.Id),
            Is.EqualTo(1), "one hashed token, expiring in 24 h");

        var token = await TokenMailedToAsync(smtp, user.Email, "verify-email", "vfy_");
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM account_tokens WHERE token_hash = sha256(convert_to(@t, 'UTF8'))", null, user.Id, ("t", token)),
            Is.EqualTo(1), "only the token's SHA-256 is stored");

        using var verified = await TestApi.Client().PostAsJsonAsync("/v1/auth/verify-email", new { token });
        await TestApi.ExpectAsync(verified, HttpStatusCode.NoContent);
        Assert.That(await EmailedVerifiedAsync(user), Is.True);

        using var again = await TestApi.Client().PostAsJsonAsync("/v1/auth/verify-email", new { token });
        await TestApi.ExpectProblemAsync(again, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var garbage = await TestApi.Client().PostAsJsonAsync("/v1/auth/verify-email", new { token = "vfy_nonsense" });
        await TestApi.ExpectProblemAsync(garbage, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var missing = await TestApi.Client().PostAsJsonAsync("/v1/auth/verify-email", new { });
        await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");

        using var resend = await TestApi.Client(user.Token).PostAsync("/v1/auth/verify-email/resend", null);
        await TestApi.ExpectProblemAsync(resend, HttpStatusCode.Conflict, "already_verified");
    }

    [Test]
    public async Task An_expired_verification_token_is_refused()
    {
        await using var smtp = new SmtpTestServer();
        var user = await TestApi.SignUpAsync();
        var token = await TokenMailedToAsync(smtp, user.Email, "verify-email", "vfy_");
        await OwnerSql.ScalarAsync<int>("UPDATE account_tokens SET expires_at = now() - interval '1 second' RETURNING 1", null, user.Id);
        using var expired = await TestApi.Client().PostAsJsonAsync("/v1/auth/verify-email", new { token });
        await TestApi.ExpectProblemAsync(expired, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(await EmailedVerifiedAsync(user), Is.False);
    }

    [Test]
    public async Task Resends_of_the_verification_email_are_limited_exactly_under_parallel_requests()
    {
        var user = await TestApi.SignUpAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => TestApi.Client(user.Token).PostAsync("/v1/auth/verify-email/resend", null)));
        try
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Accepted), Is.EqualTo(3), "Accounts:VerificationResendsPerHour");
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(7));
            Assert.That(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).All(r => r.Headers.RetryAfter is not null));
        }
        finally
        {
            Responses.DisposeAll(responses);
        }
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM account_tokens WHERE purpose = 'verify_email'", null, user.Id), Is.EqualTo(4), "sign-up's and three resends");
    }

    [Test]
    public async Task Forgot_password_answers_the_same_for_known_and_unknown_emails_and_mails_only_the_known_one()
    {
        await using var smtp = new SmtpTestServer();
        var user = await TestApi.SignUpAsync();
        using var known = await TestApi.Client().PostAsJsonAsync("/v1/auth/password/forgot", new { email = user.Email });
        using var unknown = await TestApi.Client().PostAsJsonAsync("/v1/auth/password/forgot", new { email = "nobody-" + Guid.NewGuid().ToString("N") + "@example.test" });
        await TestApi.ExpectAsync(known, HttpStatusCode.Accepted);
        await TestApi.ExpectAsync(unknown, HttpStatusCode.Accepted);
        Assert.That(await unknown.Content.ReadAsStringAsync(), Is.EqualTo(await known.Content.ReadAsStringAsync()));
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM account_tokens WHERE purpose = 'reset_password'", null, user.Id), Is.EqualTo(1));
        var token = await TokenMailedToAsync(smtp, user.Email, "reset-password", "rst_");
        Assert.That(smtp.Messages.Count(m => m.Subject == "Reset your password"), Is.EqualTo(1), "no email for the unknown address");
        Assert.That(token, Has.Length.EqualTo(4 + 43));
    }

    [Test]
    public async Task Forgot_password_is_limited_per_email_exactly_whether_or_not_it_exists()
    {
        foreach (var email in new[] { (await TestApi.SignUpAsync()).Email, "ghost-" + Guid.NewGuid().ToString("N") + "@example.test" })
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => TestApi.Client().PostAsJsonAsync("/v1/auth/password/forgot", new { email })));
            try
            {
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Accepted), Is.EqualTo(3), email);
                Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(5), email);
            }
            finally
            {
                Responses.DisposeAll(responses);
            }
        }
    }

    [Test]
    public async Task Reset_sets_the_password_verifies_the_email_and_ends_every_session()
    {
        await using var smtp = new SmtpTestServer();
        var user = await TestApi.SignUpAsync();
        var second = await LogInAsync(user.Email, user.Password);
        using (var forgot = await TestApi.Client().PostAsJsonAsync("/v1/auth/password/forgot", new { email = user.Email }))
        {
            await TestApi.ExpectAsync(forgot, HttpStatusCode.Accepted);
        }
        var token = await TokenMailedToAsync(smtp, user.Email, "reset-password", "rst_");

        using var weak = await TestApi.Client().PostAsJsonAsync("/v1/auth/password/reset", new { token, password = "short" });
        await TestApi.ExpectProblemAsync(weak, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var reset = await TestApi.Client().PostAsJsonAsync("/v1/auth/password/reset", new { token, password = NewPassword });
        await TestApi.ExpectAsync(reset, HttpStatusCode.NoContent);
        using var reused = await TestApi.Client().PostAsJsonAsync("/v1/auth/password/reset", new { token, password = NewPassword + "2" });
        await TestApi.ExpectProblemAsync(reused, HttpStatusCode.UnprocessableEntity, "validation_failed");

        using var oldAccess = await TestApi.Client(user.Token).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(oldAccess, HttpStatusCode.Unauthorized, "unauthorized");
        using var oldRefresh = await RefreshAsync((string)second["refresh_token"]!);
        await TestApi.ExpectProblemAsync(oldRefresh, HttpStatusCode.Unauthorized, "unauthorized");
        using var oldPassword = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = user.Password });
        await TestApi.ExpectProblemAsync(oldPassword, HttpStatusCode.Unauthorized, "unauthorized");
        var fresh = await LogInAsync(user.Email, NewPassword);
        Assert.That(await EmailedVerifiedAsync(user with { Token = (string)fresh["access_token"]! }), Is.True, "the reset link proved control of the address");
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM account_events WHERE action = 'password.reset'", null, user.Id), Is.EqualTo(1));
    }

    [Test]
    public async Task Changing_the_password_ends_the_other_sessions_and_keeps_this_one()
    {
        var user = await TestApi.SignUpAsync();
        var other = await LogInAsync(user.Email, user.Password);
        using var wrong = await TestApi.Client(user.Token).PostAsJsonAsync("/v1/me/password", new { current_password = "not it at all", new_password = NewPassword });
        await TestApi.ExpectProblemAsync(wrong, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var changed = await TestApi.Client(user.Token).PostAsJsonAsync("/v1/me/password", new { current_password = user.Password, new_password = NewPassword });
        await TestApi.ExpectAsync(changed, HttpStatusCode.NoContent);

        using var mine = await TestApi.Client(user.Token).GetAsync("/v1/me");
        await TestApi.ExpectAsync(mine, HttpStatusCode.OK);
        using var theirs = await TestApi.Client((string)other["access_token"]!).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(theirs, HttpStatusCode.Unauthorized, "unauthorized");
        using var theirRefresh = await RefreshAsync((string)other["refresh_token"]!);
        await TestApi.ExpectProblemAsync(theirRefresh, HttpStatusCode.Unauthorized, "unauthorized");
        await LogInAsync(user.Email, NewPassword);
    }

    [Test]
    public async Task Refresh_rotates_and_a_reused_token_revokes_the_session()
    {
        var user = await TestApi.SignUpAsync();
        var first = await LogInAsync(user.Email, user.Password);
        var refresh1 = (string)first["refresh_token"]!;
        Assert.That(refresh1, Does.StartWith("rt_"));

        using var rotated = await RefreshAsync(refresh1);
        await TestApi.ExpectAsync(rotated, HttpStatusCode.OK);
        var second = await TestApi.ReadAsync(rotated);
        var refresh2 = (string)second["refresh_token"]!;
        Assert.That(refresh2, Is.Not.EqualTo(refresh1));
        using (var me = await TestApi.Client((string)second["access_token"]!).GetAsync("/v1/me"))
        {
            await TestApi.ExpectAsync(me, HttpStatusCode.OK);
        }

        using var reuse = await RefreshAsync(refresh1);
        await TestApi.ExpectProblemAsync(reuse, HttpStatusCode.Unauthorized, "unauthorized");
        using var afterReuse = await RefreshAsync(refresh2);
        await TestApi.ExpectProblemAsync(afterReuse, HttpStatusCode.Unauthorized, "unauthorized");
        using var access = await TestApi.Client((string)second["access_token"]!).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(access, HttpStatusCode.Unauthorized, "unauthorized");
        using var stillOther = await TestApi.Client(user.Token).GetAsync("/v1/me");
        await TestApi.ExpectAsync(stillOther, HttpStatusCode.OK);

        using var garbage = await RefreshAsync("rt_garbage");
        await TestApi.ExpectProblemAsync(garbage, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Of_parallel_refreshes_with_one_token_exactly_one_succeeds_and_the_session_ends()
    {
        var user = await TestApi.SignUpAsync();
        var login = await LogInAsync(user.Email, user.Password);
        var refresh = (string)login["refresh_token"]!;
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => RefreshAsync(refresh)));
        string winner;
        try
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(1));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(5));
            winner = (string)(await TestApi.ReadAsync(responses.Single(r => r.StatusCode == HttpStatusCode.OK)))["refresh_token"]!;
        }
        finally
        {
            Responses.DisposeAll(responses);
        }
        using var after = await RefreshAsync(winner);
        await TestApi.ExpectProblemAsync(after, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT revoked_reason FROM user_sessions WHERE id = @id", null, user.Id,
            ("id", Guid.Parse(SessionOf((string)login["access_token"]!)))), Is.EqualTo("refresh_token_reused"));
    }

    [Test]
    public async Task Logout_and_session_revocation_refuse_the_tokens_and_other_users_sessions_are_404()
    {
        var user = await TestApi.SignUpAsync();
        var other = await LogInAsync(user.Email, user.Password);
        var stranger = await TestApi.SignUpAsync();

        using var list = await TestApi.Client(user.Token).GetAsync("/v1/me/sessions");
        await TestApi.ExpectAsync(list, HttpStatusCode.OK);
        var sessions = (await TestApi.ReadAsync(list))["data"]!.AsArray();
        Assert.That(sessions, Has.Count.EqualTo(2));
        Assert.That(sessions.Count(s => (bool)s!["current"]!), Is.EqualTo(1));
        var otherId = SessionOf((string)other["access_token"]!);

        using var foreign = await TestApi.Client(stranger.Token).DeleteAsync($"/v1/me/sessions/{otherId}");
        await TestApi.ExpectProblemAsync(foreign, HttpStatusCode.NotFound, "not_found");
        using var revoke = await TestApi.Client(user.Token).DeleteAsync($"/v1/me/sessions/{otherId}");
        await TestApi.ExpectAsync(revoke, HttpStatusCode.NoContent);
        using var revoked = await TestApi.Client((string)other["access_token"]!).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(revoked, HttpStatusCode.Unauthorized, "unauthorized");
        using var twice = await TestApi.Client(user.Token).DeleteAsync($"/v1/me/sessions/{otherId}");
        await TestApi.ExpectProblemAsync(twice, HttpStatusCode.NotFound, "not_found");

        using var logout = await TestApi.Client(user.Token).PostAsync("/v1/auth/logout", null);
        await TestApi.ExpectAsync(logout, HttpStatusCode.NoContent);
        using var afterLogout = await TestApi.Client(user.Token).GetAsync("/v1/me");
        await TestApi.ExpectProblemAsync(afterLogout, HttpStatusCode.Unauthorized, "unauthorized");

        // With only a refresh token (an expired access token), logout ends that token's session.
        var third = await LogInAsync(user.Email, user.Password);
        using var byRefresh = await TestApi.Client().PostAsJsonAsync("/v1/auth/logout", new { refresh_token = (string)third["refresh_token"]! });
        await TestApi.ExpectAsync(byRefresh, HttpStatusCode.NoContent);
        using var dead = await RefreshAsync((string)third["refresh_token"]!);
        await TestApi.ExpectProblemAsync(dead, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Another_instance_refuses_a_revoked_session_within_the_session_check_window()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var instance = TestEngines.Build(new() { ["Accounts:SessionCheckSeconds"] = "5" }, clock);
        var mediator = instance.GetRequiredService<IMediator>();
        var user = await TestApi.SignUpAsync();
        var sessionId = Guid.Parse(SessionOf(user.Token));
        Assert.That(await mediator.Send(new CheckSession(user.Id, sessionId)), Is.True);

        using var logout = await TestApi.Client(user.Token).PostAsync("/v1/auth/logout", null);
        await TestApi.ExpectAsync(logout, HttpStatusCode.NoContent);
        Assert.That(await mediator.Send(new CheckSession(user.Id, sessionId)), Is.True, "the other instance trusts its answer for up to 5 s");
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.That(await mediator.Send(new CheckSession(user.Id, sessionId)), Is.False, "and no longer");
        Assert.That(await mediator.Send(new CheckSession(Guid.NewGuid(), sessionId)), Is.False, "another user's id never reads the session");
    }

    [Test]
    public async Task Erasing_the_account_ends_its_sessions()
    {
        var user = await TestApi.SignUpAsync();
        var login = await LogInAsync(user.Email, user.Password);
        using var erase = await TestApi.Client(user.Token).DeleteAsync("/v1/me");
        Assert.That(erase.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        using var refresh = await RefreshAsync((string)login["refresh_token"]!);
        await TestApi.ExpectProblemAsync(refresh, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT count(*) FROM user_sessions WHERE revoked_at IS NULL", null, user.Id), Is.Zero);
    }

    [Test]
    public async Task Patch_me_changes_the_profile_and_refuses_bad_values_with_422()
    {
        var user = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(user);
        var outsider = await TestApi.SignUpAsync();
        var foreignTenant = await TestApi.CreateTenantAsync(outsider);

        using var ok = await PatchMeAsync(user, new JsonObject
        {
            ["name"] = "  Grace Hopper ",
            ["avatar_url"] = "https://cdn.example.test/a.png",
            ["preferences"] = new JsonObject { ["theme"] = "dark", ["nested"] = new JsonObject { ["a"] = 1 } },
            ["default_tenant_id"] = tenantId.ToString(),
        });
        await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        var me = (await TestApi.ReadAsync(ok))["user"]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)me["name"], Is.EqualTo("Grace Hopper"));
            Assert.That((string?)me["avatar_url"], Is.EqualTo("https://cdn.example.test/a.png"));
            Assert.That((string?)me["preferences"]!["theme"], Is.EqualTo("dark"));
            Assert.That((string?)me["default_tenant_id"], Is.EqualTo(tenantId.ToString()));
            Assert.That((bool?)me["email_verified"], Is.False);
        });

        var deep = new JsonObject();
        var cursor = deep;
        for (var i = 0; i < 12; i++)
        {
            var next = new JsonObject();
            cursor["x"] = next;
            cursor = next;
        }
        var refused = new (string Field, JsonObject Body)[]
        {
            ("avatar_url", new JsonObject { ["avatar_url"] = "http://cdn.example.test/a.png" }),
            ("avatar_url", new JsonObject { ["avatar_url"] = "https://cdn.example.test/" + new string('a', 2048) }),
            ("avatar_url", new JsonObject { ["avatar_url"] = 12 }),
            ("name", new JsonObject { ["name"] = "   " }),
            ("name", new JsonObject { ["name"] = new string('n', 201) }),
            ("name", new JsonObject { ["name"] = null }),
            ("preferences", new JsonObject { ["preferences"] = new JsonArray() }),
            ("preferences", new JsonObject { ["preferences"] = new JsonObject { ["big"] = new string('p', 17 * 1024) } }),
            ("preferences", new JsonObject { ["preferences"] = deep }),
            ("default_tenant_id", new JsonObject { ["default_tenant_id"] = foreignTenant.ToString() }),
            ("default_tenant_id", new JsonObject { ["default_tenant_id"] = "not-a-uuid" }),
        };
        foreach (var (field, body) in refused)
        {
            using var response = await PatchMeAsync(user, body);
            var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(problem["errors"]?[field], Is.Not.Null, body.ToJsonString());
        }
        using var nul = await TestApi.Client(user.Token).PatchAsync("/v1/me",
            new StringContent("{\"preferences\":{\"k\":\"a\\u0000b\"}}", System.Text.Encoding.UTF8, "application/json"));
        await TestApi.ExpectProblemAsync(nul, HttpStatusCode.UnprocessableEntity, "validation_failed");

        using var cleared = await PatchMeAsync(user, new JsonObject { ["avatar_url"] = null, ["default_tenant_id"] = null });
        await TestApi.ExpectAsync(cleared, HttpStatusCode.OK);
        var after = (await TestApi.ReadAsync(cleared))["user"]!;
        Assert.That((string?)after["avatar_url"], Is.Null);
        Assert.That((string?)after["default_tenant_id"], Is.Null);
        Assert.That((string?)after["name"], Is.EqualTo("Grace Hopper"), "left out: unchanged");
    }

    private static Task<HttpResponseMessage> PatchMeAsync(TestUser user, JsonObject body) =>
        TestApi.Client(user.Token).PatchAsync("/v1/me", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

    private static Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        TestApi.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refreshToken });

    private static async Task<JsonNode> LogInAsync(string email, string password)
    {
        using var response = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email, password });
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        return await TestApi.ReadAsync(response);
    }

    private static async Task<bool> EmailedVerifiedAsync(TestUser user)
    {
        using var response = await TestApi.Client(user.Token).GetAsync("/v1/me");
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var me = (await TestApi.ReadAsync(response))["user"]!;
        Assert.That((bool)me["email_verified"]!, Is.EqualTo(me["email_verified_at"] is not null));
        return (bool)me["email_verified"]!;
    }

    private static string SessionOf(string accessToken) =>
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(accessToken).GetClaim("sid").Value;

    /// <summary>Sends the queued emails to the loopback SMTP server and reads the token from the link of the one to the address.</summary>
    private static async Task<string> TokenMailedToAsync(SmtpTestServer smtp, string email, string page, string prefix)
    {
        await using var engines = TestEngines.Build(smtp.EmailSettings());
        await engines.GetRequiredService<IMediator>().Send(new DispatchEmails());
        var link = new Regex("/" + page + @"\?token=(?<token>" + prefix + "[A-Za-z0-9_-]{43})");
        var match = smtp.Messages.Where(m => m.To.ToString().Contains(email, StringComparison.OrdinalIgnoreCase))
            .Select(m => link.Match(m.TextBody ?? "")).LastOrDefault(m => m.Success);
        Assert.That(match, Is.Not.Null, $"an email to {email} with a {page} link");
        return match!.Groups["token"].Value;
    }
}
