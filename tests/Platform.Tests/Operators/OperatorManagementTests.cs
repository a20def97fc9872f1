using System.Net;
using System.Net.Http.Json;
using OtpNet;

namespace Platform.Tests.Operators;

public sealed class OperatorManagementTests : DatabaseTest
{
    [Test]
    public async Task A_super_admin_creates_operators_and_sees_the_totp_enrolment_once()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var email = $"new-{Guid.NewGuid():N}@staff.test";

        using var created = await admin.PostAsJsonAsync("/v1/admin/operators",
            new { email, name = "New Admin", role = "super_admin", password = OperatorTestSupport.Password, reason_code = "hiring" });

        await TestApi.ExpectAsync(created, HttpStatusCode.Created);
        var body = await TestApi.ReadAsync(created);
        var secret = (string?)body["totp_secret"];
        var id = (string)body["operator"]!["id"]!;
        Assert.Multiple(() =>
        {
            Assert.That(secret, Is.Not.Null.And.Length.GreaterThanOrEqualTo(26));
            Assert.That((string?)body["otpauth_uri"], Does.StartWith("otpauth://totp/"));
            Assert.That((string?)body["operator"]!["role"], Is.EqualTo("super_admin"));
            Assert.That((bool?)body["operator"]!["totp_enabled"], Is.True);
            Assert.That(created.Headers.Location?.ToString(), Is.EqualTo($"/v1/admin/operators/{id}"));
        });

        // The secret works, and is never shown again.
        using var login = await OperatorTestSupport.LogInAsync(email, OperatorTestSupport.Password, OperatorTestSupport.Code(secret!));
        await TestApi.ExpectAsync(login, HttpStatusCode.OK);
        var one = await admin.GetStringAsync($"/v1/admin/operators/{id}");
        var list = await admin.GetStringAsync("/v1/admin/operators");
        Assert.Multiple(() =>
        {
            Assert.That(one + list, Does.Not.Contain(secret!).And.Not.Contain("password"));
            Assert.That(list, Does.Contain(email));
        });

        using var support = await admin.PostAsJsonAsync("/v1/admin/operators",
            new { email = $"s-{Guid.NewGuid():N}@staff.test", name = "Support", role = "support", password = OperatorTestSupport.Password });
        await TestApi.ExpectAsync(support, HttpStatusCode.Created);
        Assert.That((string?)(await TestApi.ReadAsync(support))["totp_secret"], Is.Null, "TOTP is optional below super_admin");

        var actions = await TestApi.ReadAsync(await admin.GetAsync("/v1/admin/actions?action_type=operator.create"));
        var rows = actions["data"]!.AsArray();
        Assert.That(rows, Has.Count.EqualTo(2));
        Assert.That(rows.Select(r => (string?)r!["reason_code"]), Is.EquivalentTo(new[] { "hiring", "operator_management" }));
        Assert.That(rows.All(r => (bool?)r!["reversible"] == false && (bool?)r!["mfa_verified"] == true), Is.True);
        Assert.That(actions.ToJsonString(), Does.Not.Contain(secret!));
    }

    [Test]
    public async Task Only_super_admins_manage_operators_and_tenant_tokens_never_open_the_routes()
    {
        var (support, supportClient) = await OperatorTestSupport.SignedInAsync("support");
        var (_, viewerClient) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        var user = await TestApi.SignUpAsync();
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var newOperator = new { email = "x@staff.test", name = "X", role = "viewer", password = OperatorTestSupport.Password };

        foreach (var client in new[] { supportClient, viewerClient })
        {
            using var list = await client.GetAsync("/v1/admin/operators");
            await TestApi.ExpectProblemAsync(list, HttpStatusCode.Forbidden, "forbidden");
            using var create = await client.PostAsJsonAsync("/v1/admin/operators", newOperator);
            await TestApi.ExpectProblemAsync(create, HttpStatusCode.Forbidden, "forbidden");
            using var disable = await client.PostAsync($"/v1/admin/operators/{support.Id}/disable", null);
            await TestApi.ExpectProblemAsync(disable, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var userCall = await TestApi.Client(user.Token).GetAsync("/v1/admin/operators"))
        {
            Assert.That(userCall.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a tenant user's token never opens /v1/admin");
        }
        using (var userCreate = await TestApi.Client(user.Token).PostAsJsonAsync("/v1/admin/operators", newOperator))
        {
            Assert.That(userCreate.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
        using (var operatorOnTenant = await admin.GetAsync("/v1/tenants"))
        {
            Assert.That(operatorOnTenant.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "an operator token never opens a tenant route");
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM platform_users WHERE email = 'x@staff.test'"), Is.Zero);
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM platform_users WHERE status = 'disabled'"), Is.Zero);
    }

    [Test]
    public async Task The_invoice_routes_see_the_operators_current_role_and_refuse_a_disabled_operator()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (billing, billingClient) = await OperatorTestSupport.SignedInAsync("billing");
        var markPaid = $"/v1/admin/tenants/{Guid.NewGuid()}/invoices/{Guid.NewGuid()}/mark-paid";
        using (var before = await billingClient.PostAsJsonAsync(markPaid, new { reason_code = "bank_transfer" }))
        {
            await TestApi.ExpectProblemAsync(before, HttpStatusCode.NotFound, "not_found");
        }

        using (var demote = await admin.PatchAsJsonAsync($"/v1/admin/operators/{billing.Id}", new { role = "viewer" }))
        {
            await TestApi.ExpectAsync(demote, HttpStatusCode.OK);
        }
        // The token still says billing; the role in force is viewer from the next request on.
        using (var demoted = await billingClient.PostAsJsonAsync(markPaid, new { reason_code = "bank_transfer" }))
        {
            await TestApi.ExpectProblemAsync(demoted, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var close = await billingClient.PostAsJsonAsync("/v1/admin/billing/close", new { period = "2020-01" }))
        {
            await TestApi.ExpectProblemAsync(close, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var disable = await admin.PostAsJsonAsync($"/v1/admin/operators/{billing.Id}/disable", new { reason_code = "left_company" }))
        {
            await TestApi.ExpectAsync(disable, HttpStatusCode.OK);
        }
        using (var disabled = await billingClient.PostAsJsonAsync(markPaid, new { reason_code = "bank_transfer" }))
        {
            await TestApi.ExpectProblemAsync(disabled, HttpStatusCode.Unauthorized, "unauthorized");
        }
    }

    [Test]
    public async Task A_disabled_operators_token_stops_working_on_its_next_request()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (support, supportClient) = await OperatorTestSupport.SignedInAsync("support");
        using (var before = await supportClient.GetAsync("/v1/admin/tenants"))
        {
            await TestApi.ExpectAsync(before, HttpStatusCode.OK);
        }

        using var disabled = await admin.PostAsJsonAsync($"/v1/admin/operators/{support.Id}/disable", new { reason_code = "left_company", reason_note = "last day" });
        await TestApi.ExpectAsync(disabled, HttpStatusCode.OK);
        Assert.That((string?)(await TestApi.ReadAsync(disabled))["status"], Is.EqualTo("disabled"));

        using (var after = await supportClient.GetAsync("/v1/admin/tenants"))
        {
            await TestApi.ExpectProblemAsync(after, HttpStatusCode.Unauthorized, "unauthorized");
        }
        using (var login = await OperatorTestSupport.LogInAsync(support.Email, OperatorTestSupport.Password, OperatorTestSupport.Code(support.TotpSecret!)))
        {
            await TestApi.ExpectProblemAsync(login, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var enabled = await admin.PostAsync($"/v1/admin/operators/{support.Id}/enable", null);
        await TestApi.ExpectAsync(enabled, HttpStatusCode.OK);
        using (var again = await supportClient.GetAsync("/v1/admin/tenants"))
        {
            await TestApi.ExpectAsync(again, HttpStatusCode.OK);
        }
        var actions = await TestApi.ReadAsync(await admin.GetAsync("/v1/admin/actions"));
        Assert.That(actions["data"]!.AsArray().Select(a => (string?)a!["action_type"]), Is.SupersetOf(new[] { "operator.disable", "operator.enable" }));
        var disable = actions["data"]!.AsArray().Single(a => (string?)a!["action_type"] == "operator.disable")!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)disable["target_id"], Is.EqualTo(support.Id.ToString()));
            Assert.That((string?)disable["reason_code"], Is.EqualTo("left_company"));
            Assert.That((string?)disable["details"]!["to"], Is.EqualTo("disabled"));
        });
    }

    [Test]
    public async Task A_role_change_applies_from_the_operators_next_request()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (op, client) = await OperatorTestSupport.SignedInAsync("viewer");
        using (var before = await client.GetAsync("/v1/admin/operators"))
        {
            await TestApi.ExpectProblemAsync(before, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var promote = await admin.PatchAsJsonAsync($"/v1/admin/operators/{op.Id}", new { role = "super_admin" }))
        {
            await TestApi.ExpectAsync(promote, HttpStatusCode.OK);
        }
        using (var promoted = await client.GetAsync("/v1/admin/operators"))
        {
            await TestApi.ExpectAsync(promoted, HttpStatusCode.OK);
        }
        using (var demote = await admin.PatchAsJsonAsync($"/v1/admin/operators/{op.Id}", new { role = "viewer" }))
        {
            await TestApi.ExpectAsync(demote, HttpStatusCode.OK);
        }
        using (var demoted = await client.GetAsync("/v1/admin/operators"))
        {
            await TestApi.ExpectProblemAsync(demoted, HttpStatusCode.Forbidden, "forbidden");
        }
        var changes = await TestApi.ReadAsync(await admin.GetAsync("/v1/admin/actions?action_type=operator.role_change"));
        Assert.That(changes["data"]!.AsArray().Select(a => (string?)a!["details"]!["to"]), Is.EquivalentTo(new[] { "super_admin", "viewer" }));
    }

    [Test]
    public async Task Promoting_an_operator_without_totp_to_super_admin_forces_enrolment()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (op, client) = await OperatorTestSupport.SignedInAsync("support", totp: false);

        using (var promote = await admin.PatchAsJsonAsync($"/v1/admin/operators/{op.Id}", new { role = "super_admin" }))
        {
            await TestApi.ExpectAsync(promote, HttpStatusCode.OK);
            Assert.That((bool?)(await TestApi.ReadAsync(promote))["totp_enrolment_required"], Is.True);
        }
        using var refused = await client.GetAsync("/v1/admin/tenants");
        await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "totp_enrolment_required");
        await EnrolAsync(op, client);
    }

    [Test]
    public async Task A_totp_reset_closes_every_route_but_enrolment_until_the_operator_enrols_again()
    {
        var (_, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var (op, oldClient) = await OperatorTestSupport.SignedInAsync("super_admin");

        using (var reset = await admin.PostAsJsonAsync($"/v1/admin/operators/{op.Id}/totp/reset", new { reason_code = "lost_phone" }))
        {
            await TestApi.ExpectAsync(reset, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(reset);
            Assert.That((bool?)body["totp_enabled"], Is.False);
            Assert.That((bool?)body["totp_enrolment_required"], Is.True);
        }
        // Even the token signed in with the old code is refused now.
        using (var stale = await oldClient.GetAsync("/v1/admin/tenants"))
        {
            await TestApi.ExpectProblemAsync(stale, HttpStatusCode.Forbidden, "totp_enrolment_required");
        }
        // The old code no longer matters; the password alone gives an enrolment-only token.
        using var login = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, null);
        await TestApi.ExpectAsync(login, HttpStatusCode.OK);
        var loginBody = await TestApi.ReadAsync(login);
        Assert.That((bool?)loginBody["mfa_verified"], Is.False);
        var client = TestApi.Client((string)loginBody["access_token"]!);
        using (var refused = await client.GetAsync("/v1/admin/operators"))
        {
            await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "totp_enrolment_required");
        }

        await EnrolAsync(op, client);
        var reset2 = await TestApi.ReadAsync(await admin.GetAsync("/v1/admin/actions?action_type=operator.totp_reset"));
        Assert.That((string?)reset2["data"]![0]!["reason_code"], Is.EqualTo("lost_phone"));
    }

    [Test]
    public async Task Exactly_one_super_admin_remains_when_six_disable_or_demote_themselves_in_parallel()
    {
        var admins = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => OperatorTestSupport.SignedInAsync("super_admin")));

        var responses = await Task.WhenAll(admins.Select((a, i) => i % 2 == 0
            ? a.Client.PostAsync($"/v1/admin/operators/{a.Operator.Id}/disable", null)
            : a.Client.PatchAsJsonAsync($"/v1/admin/operators/{a.Operator.Id}", new { role = "viewer" })));

        Assert.Multiple(() =>
        {
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(5));
            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Conflict), Is.EqualTo(1));
        });
        await TestApi.ExpectProblemAsync(responses.Single(r => r.StatusCode == HttpStatusCode.Conflict), HttpStatusCode.Conflict, "last_super_admin");
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM platform_users WHERE role = 'super_admin' AND status = 'active'"), Is.EqualTo(1));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM founder_actions WHERE action_type IN ('operator.disable', 'operator.role_change')"), Is.EqualTo(5));
        foreach (var r in responses)
        {
            r.Dispose();
        }

        // The survivor can neither disable nor demote itself.
        var survivor = admins[Array.FindIndex(responses, r => r.StatusCode == HttpStatusCode.Conflict)];
        using var disable = await survivor.Client.PostAsync($"/v1/admin/operators/{survivor.Operator.Id}/disable", null);
        await TestApi.ExpectProblemAsync(disable, HttpStatusCode.Conflict, "last_super_admin");
        using var demote = await survivor.Client.PatchAsJsonAsync($"/v1/admin/operators/{survivor.Operator.Id}", new { role = "viewer" });
        await TestApi.ExpectProblemAsync(demote, HttpStatusCode.Conflict, "last_super_admin");
    }

    [Test]
    public async Task Two_super_admins_disabling_each_other_in_parallel_leave_exactly_one()
    {
        for (var round = 0; round < 5; round++)
        {
            await DatabaseFixture.ResetAsync();
            var a = await OperatorTestSupport.SignedInAsync("super_admin");
            var b = await OperatorTestSupport.SignedInAsync("super_admin");

            var responses = await Task.WhenAll(
                a.Client.PostAsync($"/v1/admin/operators/{b.Operator.Id}/disable", null),
                b.Client.PostAsync($"/v1/admin/operators/{a.Operator.Id}/disable", null));

            Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.OK), Is.EqualTo(1), $"round {round}");
            Assert.That(responses.Count(r => (int)r.StatusCode is 401 or 403 or 409), Is.EqualTo(1), $"round {round}");
            Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM platform_users WHERE role = 'super_admin' AND status = 'active'"), Is.EqualTo(1));
            foreach (var r in responses)
            {
                r.Dispose();
            }
        }
    }

    [Test]
    public async Task Bad_operator_management_input_gets_4xx_problem_details_and_writes_nothing()
    {
        var (op, admin) = await OperatorTestSupport.SignedInAsync("super_admin");
        var before = await OwnerSql.CountAsync("SELECT count(*) FROM platform_users");

        using (var noRole = await admin.PostAsJsonAsync("/v1/admin/operators", new { email = "a@staff.test", name = "A", password = OperatorTestSupport.Password }))
        {
            var body = await TestApi.ExpectProblemAsync(noRole, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!.AsObject().ContainsKey("role"), Is.True);
        }
        using (var bad = await admin.PostAsJsonAsync("/v1/admin/operators", new { email = "nope", name = "", role = "god", password = "short" }))
        {
            var body = await TestApi.ExpectProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation_failed");
            Assert.That(body["errors"]!.AsObject().Select(e => e.Key), Is.SupersetOf(new[] { "email", "name", "role", "password" }));
        }
        using (var noTotp = await admin.PostAsJsonAsync("/v1/admin/operators",
            new { email = "b@staff.test", name = "B", role = "super_admin", password = OperatorTestSupport.Password, enable_totp = false }))
        {
            await TestApi.ExpectProblemAsync(noTotp, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var taken = await admin.PostAsJsonAsync("/v1/admin/operators", new { email = op.Email.ToUpperInvariant(), name = "Dup", role = "viewer", password = OperatorTestSupport.Password }))
        {
            await TestApi.ExpectProblemAsync(taken, HttpStatusCode.Conflict, "email_taken");
        }
        using (var badRole = await admin.PatchAsJsonAsync($"/v1/admin/operators/{op.Id}", new { role = "god" }))
        {
            await TestApi.ExpectProblemAsync(badRole, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var badReason = await admin.PostAsJsonAsync($"/v1/admin/operators/{op.Id}/disable", new { reason_code = "Not Valid!" }))
        {
            await TestApi.ExpectProblemAsync(badReason, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var unknown = await admin.PostAsync($"/v1/admin/operators/{Guid.NewGuid()}/disable", null))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        }
        using (var notJson = await admin.SendAsync(TestApi.Request(HttpMethod.Post, "/v1/admin/operators", "{not json")))
        {
            Assert.That((int)notJson.StatusCode, Is.InRange(400, 499));
        }
        using (var badCode = await admin.PostAsJsonAsync("/v1/admin/auth/totp/confirm", new { code = "12ab" }))
        {
            await TestApi.ExpectProblemAsync(badCode, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var enrolled = await admin.PostAsync("/v1/admin/auth/totp/enroll", null))
        {
            await TestApi.ExpectProblemAsync(enrolled, HttpStatusCode.Conflict, "totp_already_enabled");
        }

        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM platform_users"), Is.EqualTo(before));
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM founder_actions"), Is.Zero);
    }

    /// <summary>Enrols TOTP over HTTP with an enrolment-only client: enroll, a wrong code refused, confirm, then a fresh login with a code opens the console.</summary>
    private static async Task EnrolAsync(TestOperator op, HttpClient client)
    {
        using var enroll = await client.PostAsync("/v1/admin/auth/totp/enroll", null);
        await TestApi.ExpectAsync(enroll, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(enroll);
        var secret = (string)body["totp_secret"]!;
        Assert.That((string?)body["otpauth_uri"], Does.Contain("secret=" + secret));

        using (var wrong = await client.PostAsJsonAsync("/v1/admin/auth/totp/confirm", new { code = Shift(OperatorTestSupport.Code(secret)) }))
        {
            await TestApi.ExpectProblemAsync(wrong, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        using (var confirm = await client.PostAsJsonAsync("/v1/admin/auth/totp/confirm", new { code = OperatorTestSupport.Code(secret) }))
        {
            await TestApi.ExpectAsync(confirm, HttpStatusCode.OK);
            var confirmed = await TestApi.ReadAsync(confirm);
            Assert.That((bool?)confirmed["totp_enabled"], Is.True);
            Assert.That((bool?)confirmed["totp_enrolment_required"], Is.False);
        }
        using (var stillUnverified = await client.GetAsync("/v1/admin/tenants"))
        {
            await TestApi.ExpectProblemAsync(stillUnverified, HttpStatusCode.Forbidden, "mfa_required");
        }
        using (var noCode = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, null))
        {
            await TestApi.ExpectProblemAsync(noCode, HttpStatusCode.Unauthorized, "unauthorized");
        }
        // The confirmation used the current step; the next one signs in.
        var next = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(DateTime.UtcNow.AddSeconds(30));
        using var login = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, next);
        await TestApi.ExpectAsync(login, HttpStatusCode.OK);
        var token = (string)(await TestApi.ReadAsync(login))["access_token"]!;
        using var open = await TestApi.Client(token).GetAsync("/v1/admin/tenants");
        await TestApi.ExpectAsync(open, HttpStatusCode.OK);
    }

    private static string Shift(string code) =>
        ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
}
