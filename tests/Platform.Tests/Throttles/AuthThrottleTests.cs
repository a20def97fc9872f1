using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Models;
using Platform.Tests.Invitations;
using Platform.Tests.Operators;

namespace Platform.Tests.Throttles;

/// <summary>Throttles of logins, TOTP codes, invitation tokens and sign-ups per account and client IP, held in PostgreSQL (ADR 0185), the bound of bcrypt work (ADR 0186) and sign-up that does not reveal registered emails (ADR 0187).</summary>
public sealed class AuthThrottleTests : DatabaseTest
{
    private const string Ip = "203.0.113.40";

    [Test]
    public async Task Fifty_parallel_wrong_passwords_for_one_account_from_one_ip_get_exactly_the_account_limit_of_401s_and_429s_with_retry_after()
    {
        var user = await TestApi.SignUpAsync();
        await using var host = Host(new ManualClock(DateTimeOffset.UtcNow), Ip, ("LoginAttemptsPerMinutePerAccount", 5), ("LoginAttemptsPerMinutePerIp", 100));
        var client = host.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = $"wrong password {i}" })));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(5));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(45));
            Assert.That(responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).All(r => r.Headers.RetryAfter?.Delta > TimeSpan.Zero), Is.True);
        });
        var body = await TestApi.ExpectProblemAsync(responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests), HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That((string?)body["quota"], Is.EqualTo("login_attempts_per_account"));
        Responses.DisposeAll(responses);

        // The right password is refused too while the email's window is full: the count is checked before bcrypt.
        using var right = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email.ToUpperInvariant(), password = user.Password });
        await TestApi.ExpectProblemAsync(right, HttpStatusCode.TooManyRequests, "rate_limited");
    }

    [Test]
    public async Task The_per_ip_limit_counts_attempts_across_accounts_and_other_addresses_are_not_affected()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = Host(clock, Ip, ("LoginAttemptsPerMinutePerIp", 7));
        var client = host.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            client.PostAsJsonAsync("/v1/auth/login", new { email = $"nobody{i}@example.test", password = "guess guess" })));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(7));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(13));
        });
        var body = await TestApi.ExpectProblemAsync(responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests), HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That((string?)body["quota"], Is.EqualTo("login_attempts_per_ip"));
        Responses.DisposeAll(responses);

        await using var other = Host(clock, "198.51.100.40", ("LoginAttemptsPerMinutePerIp", 7));
        using var elsewhere = await other.CreateClient().PostAsJsonAsync("/v1/auth/login", new { email = "nobody@example.test", password = "guess guess" });
        await TestApi.ExpectProblemAsync(elsewhere, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Test]
    public async Task Successful_logins_do_not_use_up_the_account_limit_and_a_throttled_account_logs_in_after_the_window()
    {
        var user = await TestApi.SignUpAsync();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = Host(clock, Ip, ("LoginAttemptsPerMinutePerAccount", 3), ("LoginAttemptsPerMinutePerIp", 100));
        var client = host.CreateClient();

        for (var i = 0; i < 5; i++)
        {
            using var ok = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = user.Password });
            await TestApi.ExpectAsync(ok, HttpStatusCode.OK);
        }
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = "not the password" });
            await TestApi.ExpectProblemAsync(wrong, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var throttled = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = user.Password }))
        {
            await TestApi.ExpectProblemAsync(throttled, HttpStatusCode.TooManyRequests, "rate_limited");
            Assert.That(throttled.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(TimeSpan.FromMinutes(1)));
        }

        clock.Advance(TimeSpan.FromMinutes(1));
        using var after = await client.PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = user.Password });
        await TestApi.ExpectAsync(after, HttpStatusCode.OK);
    }

    [Test]
    public async Task Two_api_instances_share_the_account_and_ip_limits_exactly_under_40_parallel_wrong_passwords()
    {
        var user = await TestApi.SignUpAsync();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var first = Host(clock, Ip, ("LoginAttemptsPerMinutePerAccount", 4), ("LoginAttemptsPerMinutePerIp", 9));
        await using var second = Host(clock, Ip, ("LoginAttemptsPerMinutePerAccount", 4), ("LoginAttemptsPerMinutePerIp", 9));
        var clients = new[] { first.CreateClient(), second.CreateClient() };

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            clients[i % 2].PostAsJsonAsync("/v1/auth/login", new { email = i % 4 == 0 ? $"other{i}@example.test" : user.Email, password = $"wrong {i}" })));

        // Ten attempts go to other emails, thirty to the user's: at most four failures of the user, nine attempts of the IP in all.
        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.EqualTo(9), "9 attempts of the IP in all, not 9 per instance");
            Assert.That(responses.Where((r, i) => i % 4 != 0).Count(r => r.StatusCode == HttpStatusCode.Unauthorized), Is.LessThanOrEqualTo(4));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(31));
        });
        Responses.DisposeAll(responses);
        Assert.That(await OwnerSql.ScalarAsync<int>("SELECT attempt_count FROM auth_throttle_windows WHERE scope = 'login_ip' AND subject = @ip", null, ("ip", Ip)), Is.EqualTo(9));
    }

    [Test]
    public async Task Wrong_totp_codes_at_enrolment_are_limited_per_operator_and_a_right_one_after_the_window_confirms()
    {
        var (_, shared) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = Host(clock, Ip, ("TotpAttemptsPerMinutePerOperator", 3));
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = shared.DefaultRequestHeaders.Authorization;
        using var enroll = await client.PostAsync("/v1/admin/auth/totp/enroll", null);
        await TestApi.ExpectAsync(enroll, HttpStatusCode.OK);
        var secret = (string)(await TestApi.ReadAsync(enroll))["totp_secret"]!;
        var wrong = Shift(OperatorTestSupport.Code(secret));

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.PostAsJsonAsync("/v1/admin/auth/totp/confirm", new { code = wrong })));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.UnprocessableEntity), Is.EqualTo(3));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(7));
        });
        var body = await TestApi.ExpectProblemAsync(responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests), HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That((string?)body["quota"], Is.EqualTo("totp_attempts_per_operator"));
        Responses.DisposeAll(responses);

        clock.Advance(TimeSpan.FromMinutes(1));
        var code = new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(secret)).ComputeTotp(clock.UtcNow.UtcDateTime);
        using var confirm = await client.PostAsJsonAsync("/v1/admin/auth/totp/confirm", new { code });
        await TestApi.ExpectAsync(confirm, HttpStatusCode.OK);
    }

    [Test]
    public async Task Wrong_totp_codes_at_operator_login_are_limited_per_operator_before_the_lockout()
    {
        var op = await OperatorTestSupport.CreateAsync("support", totp: true);
        await using var host = Host(new ManualClock(DateTimeOffset.UtcNow), Ip, ("TotpAttemptsPerMinutePerOperator", 2));
        var client = host.CreateClient();
        var wrong = Shift(OperatorTestSupport.Code(op.TotpSecret!));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsJsonAsync("/v1/admin/auth/login", new { email = op.Email, password = OperatorTestSupport.Password, totp_code = wrong });
            statuses.Add(response.StatusCode);
            if (i == 2)
            {
                var body = await TestApi.ExpectProblemAsync(response, HttpStatusCode.TooManyRequests, "rate_limited");
                Assert.That((string?)body["quota"], Is.EqualTo("totp_attempts_per_operator"));
            }
        }
        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
    }

    [Test]
    public async Task Unknown_invitation_tokens_are_limited_per_user_and_acceptances_per_ip()
    {
        var owner = await TestApi.SignUpAsync();
        var tenantId = await TestApi.CreateTenantAsync(owner);
        var invitee = await TestApi.SignUpAsync();
        var token = (string)(await InvitationApiTests.InviteAsync(owner, tenantId, invitee.Email))["token"]!;
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = Host(clock, Ip, ("InvitationAttemptsPerMinutePerUser", 3), ("InvitationAttemptsPerMinutePerIp", 6));
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", invitee.Token);

        var guesses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            client.PostAsJsonAsync("/v1/invitations/accept", new { token = $"inv_guess{i}" })));
        Assert.Multiple(() =>
        {
            Assert.That(guesses.Count(r => r.StatusCode == HttpStatusCode.NotFound), Is.EqualTo(3));
            Assert.That(guesses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests), Is.EqualTo(7));
        });
        var body = await TestApi.ExpectProblemAsync(guesses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests), HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That((string?)body["quota"], Is.EqualTo("invitation_attempts_per_user"));
        Responses.DisposeAll(guesses);

        // Another user behind the same address has its own unknown-token allowance, but the address's 6 acceptances are shared.
        var other = await TestApi.SignUpAsync();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/invitations/accept") { Content = JsonContent.Create(new { token = $"inv_other{i}" }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", other.Token);
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }
        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests }));

        clock.Advance(TimeSpan.FromMinutes(1));
        using var accepted = await client.PostAsJsonAsync("/v1/invitations/accept", new { token });
        await TestApi.ExpectAsync(accepted, HttpStatusCode.OK);
    }

    [Test]
    public async Task Saturated_password_hashing_answers_429_with_retry_after_at_once_instead_of_queueing()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => TestApi.SignUpAsync()));
        await using var host = Host(new ManualClock(DateTimeOffset.UtcNow), Ip, ("PasswordHashingConcurrency", 1), ("PasswordHashingWaitMilliseconds", 0));
        var client = host.CreateClient();

        var clock = Stopwatch.StartNew();
        var timed = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            var started = clock.Elapsed;
            var response = await client.PostAsJsonAsync("/v1/auth/login", new { email = users[i % 3].Email, password = users[i % 3].Password });
            return (Response: response, Took: clock.Elapsed - started);
        }));

        var busy = timed.Where(t => t.Response.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(busy, Is.Not.Empty, "with one bcrypt slot, twelve parallel logins cannot all be hashed at once");
            Assert.That(timed.Count(t => t.Response.StatusCode == HttpStatusCode.OK) + busy.Count, Is.EqualTo(12));
            Assert.That(busy.All(t => t.Response.Headers.RetryAfter?.Delta == TimeSpan.FromSeconds(1)), Is.True);
        });
        var body = await TestApi.ExpectProblemAsync(busy[0].Response, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.That((string?)body["quota"], Is.EqualTo("password_hashing"));
        // A refused login waited for no hash: it answers faster than the slowest success, which waited for none either.
        Assert.That(busy.Min(t => t.Took), Is.LessThan(timed.Where(t => t.Response.StatusCode == HttpStatusCode.OK).Max(t => t.Took)));
        Responses.DisposeAll(timed.Select(t => t.Response));

        // The refused logins were not counted as failures of their accounts.
        Assert.That(await OwnerSql.ScalarAsync<long>("SELECT coalesce(sum(attempt_count), 0) FROM auth_throttle_windows WHERE scope = 'login_account'"), Is.Zero);
    }

    [Test]
    public async Task Signup_of_a_registered_email_answers_201_with_the_same_shape_emails_the_owner_and_its_token_gets_401()
    {
        var existing = await TestApi.SignUpAsync("Owner");
        using var fresh = await TestApi.Client().PostAsJsonAsync("/v1/auth/signup", new { email = $"new-{Guid.NewGuid():N}@example.test", password = "a new password", name = "New" });
        await TestApi.ExpectAsync(fresh, HttpStatusCode.Created);
        var freshBody = await TestApi.ReadAsync(fresh);

        using var twin = await TestApi.Client().PostAsJsonAsync("/v1/auth/signup", new { email = existing.Email.ToUpperInvariant(), password = "another password", name = "Twin" });

        await TestApi.ExpectAsync(twin, HttpStatusCode.Created);
        Assert.That(twin.Headers.Location?.ToString(), Is.EqualTo(fresh.Headers.Location?.ToString()));
        var body = await TestApi.ReadAsync(twin);
        var user = body["user"]!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(body.AsObject().Select(p => p.Key), Is.EqualTo(freshBody.AsObject().Select(p => p.Key)));
            Assert.That(user.Select(p => p.Key), Is.EqualTo(freshBody["user"]!.AsObject().Select(p => p.Key)));
            Assert.That(Guid.Parse((string)user["id"]!), Is.Not.EqualTo(existing.Id));
            Assert.That((string?)user["email"], Is.EqualTo(existing.Email.ToUpperInvariant()));
            Assert.That((string?)user["name"], Is.EqualTo("Twin"));
            Assert.That((string?)user["status"], Is.EqualTo("active"));
            Assert.That((string?)body["token_type"], Is.EqualTo("Bearer"));
            Assert.That((int?)body["expires_in"], Is.EqualTo((int?)freshBody["expires_in"]));
        });

        // No second account; the owner is told by email; the owner's password still works.
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM user_credentials_by_email(@e)", null, ("e", existing.Email)), Is.EqualTo(1));
        // The message has no tenant, so only the dispatcher sees it: dispatch it to a pickup folder and read the .eml.
        // The verification emails of both sign-ups are not what this test reads.
        await Platform.Tests.Email.QueuedAccountEmails.DropAsync();
        var folder = Path.Combine(Path.GetTempPath(), "platform-mail-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var engines = TestEngines.Build(new() { ["Email:PickupDirectory"] = folder });
            await engines.GetRequiredService<MediatR.IMediator>().Send(new Platform.Engines.Email.DispatchEmails());
            var message = await MimeKit.MimeMessage.LoadAsync(Directory.GetFiles(folder, "*.eml").Single());
            Assert.Multiple(() =>
            {
                Assert.That(message.To.Mailboxes.Single().Address, Is.EqualTo(existing.Email).IgnoreCase);
                Assert.That(message.Subject, Does.StartWith("Someone tried to sign up"));
                Assert.That(message.TextBody, Does.Contain("reset your password"));
            });
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        using (var login = await TestApi.Client().PostAsJsonAsync("/v1/auth/login", new { email = existing.Email, password = existing.Password }))
        {
            await TestApi.ExpectAsync(login, HttpStatusCode.OK);
        }

        await ExpectEveryUserRouteRefusesAsync((string)body["access_token"]!);
    }

    [Test]
    public async Task A_valid_token_of_an_erased_user_gets_401_on_every_user_route_as_an_invented_one_does()
    {
        var user = await TestApi.SignUpAsync();
        using (var erase = await TestApi.Client(user.Token).DeleteAsync("/v1/me"))
        {
            Assert.That((int)erase.StatusCode, Is.LessThan(300), await erase.Content.ReadAsStringAsync());
        }

        await ExpectEveryUserRouteRefusesAsync(user.Token);
    }

    [Test]
    public async Task Sign_ups_are_limited_per_client_ip_per_hour()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var host = Host(clock, Ip, ("SignUpsPerHourPerIp", 3));
        var client = host.CreateClient();
        var taken = await TestApi.SignUpAsync();

        var statuses = new List<HttpStatusCode>();
        foreach (var email in new[] { $"a-{Guid.NewGuid():N}@example.test", taken.Email, $"b-{Guid.NewGuid():N}@example.test", $"c-{Guid.NewGuid():N}@example.test" })
        {
            using var response = await client.PostAsJsonAsync("/v1/auth/signup", new { email, password = "a long password", name = "N" });
            statuses.Add(response.StatusCode);
            if (statuses.Count == 4)
            {
                var body = await TestApi.ExpectProblemAsync(response, HttpStatusCode.TooManyRequests, "rate_limited");
                Assert.That((string?)body["quota"], Is.EqualTo("signups_per_ip"));
                Assert.That(response.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(TimeSpan.FromHours(1)));
            }
        }
        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests }));

        clock.Advance(TimeSpan.FromHours(1));
        using var later = await client.PostAsJsonAsync("/v1/auth/signup", new { email = $"d-{Guid.NewGuid():N}@example.test", password = "a long password", name = "N" });
        await TestApi.ExpectAsync(later, HttpStatusCode.Created);
    }

    /// <summary>Calls each route a signed-in user without tenants can reach and expects 401 where the account is needed, and never a 5xx.</summary>
    private static async Task ExpectEveryUserRouteRefusesAsync(string token)
    {
        var client = TestApi.Client(token);
        using (var me = await client.GetAsync("/v1/me"))
        {
            await TestApi.ExpectProblemAsync(me, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var create = await client.PostAsJsonAsync("/v1/tenants", new { name = "Ghost", slug = "g-" + Guid.NewGuid().ToString("N")[..10] }))
        {
            await TestApi.ExpectProblemAsync(create, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var accept = await client.PostAsJsonAsync("/v1/invitations/accept", new { token = "inv_nothing" }))
        {
            await TestApi.ExpectProblemAsync(accept, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var erase = await client.DeleteAsync("/v1/me"))
        {
            await TestApi.ExpectProblemAsync(erase, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var list = await client.GetAsync("/v1/tenants"))
        {
            Assert.That((int)list.StatusCode, Is.LessThan(500), await list.Content.ReadAsStringAsync());
        }
        using (var tenant = await client.GetAsync($"/v1/tenants/{Guid.NewGuid()}"))
        {
            Assert.That((int)tenant.StatusCode, Is.InRange(400, 499), await tenant.Content.ReadAsStringAsync());
        }
    }

    private static string Shift(string code) =>
        ((int.Parse(code, CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>Starts a separate API instance on the test database with its own clock, a fixed client IP and the given Auth limits.</summary>
    private static WebApplicationFactory<Program> Host(IClock clock, string ip, params (string Key, int Value)[] limits) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            foreach (var (key, value) in limits)
            {
                b.UseSetting("Auth:" + key, value.ToString(CultureInfo.InvariantCulture));
            }
            b.ConfigureTestServices(s =>
            {
                s.AddSingleton(clock);
                s.AddSingleton<IStartupFilter>(new FixedClientIp(IPAddress.Parse(ip)));
            });
        });
}
