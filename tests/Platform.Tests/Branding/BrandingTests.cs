using System.Net;
using System.Net.Http.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Email;
using Platform.Engines.Plans;
using Platform.Models;
using Platform.Models.Plans;
using Platform.Tests.Email;
using Platform.Tests.Invitations;

namespace Platform.Tests.Branding;

/// <summary>Proves tenant branding (ADR 0630): members read, admins write, bad values refused naming the field, the public branding of a slug host,
/// the plan gate, and the tenant's emails carrying its logo, colour, product name and sender name, HTML-escaped.</summary>
public sealed class BrandingTests : DatabaseTest
{
    private static readonly object Acme = new
    {
        logo_url = "https://cdn.example.test/acme/logo.png?size=2&x=<y>",
        custom_css_url = "https://cdn.example.test/acme/site.css",
        primary_color = "#FF5500",
        product_name = "Acme <Cloud> & Co",
        email_sender_name = "Acme \"Support\"",
    };

    private static Task<HttpResponseMessage> PutAsync(TestUser user, Guid tenantId, object body) =>
        TestApi.Client(user.Token).PutAsJsonAsync($"/v1/tenants/{tenantId}/branding", body, TestApi.Json);

    private static async Task<(TestUser Owner, Guid TenantId, string Slug)> ProfessionalTenantAsync()
    {
        var owner = await TestApi.SignUpAsync();
        var slug = "b-" + Guid.NewGuid().ToString("N")[..10];
        return (owner, await TestApi.CreateTenantAsync(owner, slug, PlanCatalog.Professional), slug);
    }

    [Test]
    public async Task Admins_set_the_branding_members_read_it_and_anyone_reads_it_by_slug_host()
    {
        var (owner, tenantId, slug) = await ProfessionalTenantAsync();
        using (var put = await PutAsync(owner, tenantId, Acme))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
            var saved = await TestApi.ReadAsync(put);
            Assert.That((string?)saved["primary_color"], Is.EqualTo("#ff5500"), "colours are stored in lower case");
        }
        var member = await TestApi.MemberAsync(tenantId, "viewer");
        using (var get = await TestApi.Client(member.Token).GetAsync($"/v1/tenants/{tenantId}/branding"))
        {
            await TestApi.ExpectAsync(get, HttpStatusCode.OK);
            var read = await TestApi.ReadAsync(get);
            Assert.That((string?)read["product_name"], Is.EqualTo("Acme <Cloud> & Co"));
            Assert.That((string?)read["email_sender_name"], Is.EqualTo("Acme \"Support\""));
        }
        using (var denied = await PutAsync(member, tenantId, Acme))
        {
            await TestApi.ExpectProblemAsync(denied, HttpStatusCode.Forbidden, "forbidden");
        }
        var stranger = await TestApi.SignUpAsync();
        using (var other = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{tenantId}/branding"))
        {
            await TestApi.ExpectProblemAsync(other, HttpStatusCode.NotFound, "not_found");
        }
        using (var otherPut = await PutAsync(stranger, tenantId, Acme))
        {
            await TestApi.ExpectProblemAsync(otherPut, HttpStatusCode.NotFound, "not_found");
        }

        using (var anonymous = await TestApi.Client().GetAsync($"/v1/branding?host={slug.ToUpperInvariant()}.platform.localhost:443"))
        {
            await TestApi.ExpectAsync(anonymous, HttpStatusCode.OK);
            var body = await TestApi.ReadAsync(anonymous);
            Assert.Multiple(() =>
            {
                Assert.That((string?)body["slug"], Is.EqualTo(slug));
                Assert.That((string?)body["product_name"], Is.EqualTo("Acme <Cloud> & Co"));
                Assert.That((string?)body["logo_url"], Is.EqualTo("https://cdn.example.test/acme/logo.png?size=2&x=<y>"));
                Assert.That((string?)body["primary_color"], Is.EqualTo("#ff5500"));
                Assert.That(anonymous.Headers.CacheControl?.Public, Is.True);
                Assert.That(anonymous.Headers.CacheControl?.MaxAge, Is.EqualTo(TimeSpan.FromSeconds(300)));
            });
        }
        using (var unknown = await TestApi.Client().GetAsync("/v1/branding?host=nobody-here.platform.localhost"))
        {
            await TestApi.ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "not_found");
        }
        using (var foreign = await TestApi.Client().GetAsync("/v1/branding?host=www.example.org"))
        {
            await TestApi.ExpectProblemAsync(foreign, HttpStatusCode.NotFound, "not_found");
        }
        using (var missing = await TestApi.Client().GetAsync("/v1/branding"))
        {
            await TestApi.ExpectProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation_failed");
        }
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM audit_log WHERE action = 'branding.updated'", tenantId), Is.EqualTo(1));
    }

    [TestCase("logo_url", "javascript:alert(1)")]
    [TestCase("logo_url", "data:image/png;base64,AAAA")]
    [TestCase("logo_url", "http://cdn.example.test/logo.png")]
    [TestCase("custom_css_url", "https://user:pw@cdn.example.test/site.css")]
    [TestCase("custom_css_url", "https://cdn.example.test/a b.css")]
    [TestCase("primary_color", "red")]
    [TestCase("primary_color", "#12345")]
    [TestCase("product_name", "")]
    [TestCase("product_name", "Line\nbreak")]
    [TestCase("email_sender_name", "Nul\u0000byte")]
    public async Task Bad_values_get_422_naming_the_field_and_change_nothing(string field, string value)
    {
        var (owner, tenantId, _) = await ProfessionalTenantAsync();
        using (var first = await PutAsync(owner, tenantId, Acme))
        {
            await TestApi.ExpectAsync(first, HttpStatusCode.OK);
        }
        var body = new Dictionary<string, string?> { ["product_name"] = "Other", [field] = value };
        using var response = await PutAsync(owner, tenantId, body);
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]![field], Is.Not.Null, problem.ToJsonString());
        Assert.That(await OwnerSql.ScalarAsync<string>("SELECT product_name FROM tenant_branding", tenantId), Is.EqualTo("Acme <Cloud> & Co"));
    }

    [Test]
    public async Task Oversized_values_get_422_naming_the_field()
    {
        var (owner, tenantId, _) = await ProfessionalTenantAsync();
        using var response = await PutAsync(owner, tenantId, new
        {
            logo_url = "https://cdn.example.test/" + new string('a', 2100),
            product_name = new string('p', 101),
        });
        var problem = await TestApi.ExpectProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation_failed");
        Assert.That(problem["errors"]!.AsObject().Select(e => e.Key), Is.EquivalentTo(new[] { "logo_url", "product_name" }));
    }

    [Test]
    public async Task Members_download_the_kept_logo_image_as_a_PNG_and_a_tenant_without_one_or_another_tenant_gets_404()
    {
        // A 1x1 PNG (ADR 0779); GET …/branding/logo.png gives back its bytes for the dashboard's preview (ADR 0805).
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
        var (owner, tenantId, _) = await ProfessionalTenantAsync();
        var viewer = await TestApi.MemberAsync(tenantId, "viewer");
        using (var none = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/branding/logo.png"))
        {
            await TestApi.ExpectProblemAsync(none, HttpStatusCode.NotFound, "not_found");
        }
        using (var put = await PutAsync(owner, tenantId, new { product_name = "Acme", logo_png = Convert.ToBase64String(png) }))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }
        using (var logo = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/branding/logo.png"))
        {
            await TestApi.ExpectAsync(logo, HttpStatusCode.OK);
            Assert.That(logo.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/png"));
            Assert.That(await logo.Content.ReadAsByteArrayAsync(), Is.EqualTo(png));
        }
        var stranger = await TestApi.SignUpAsync();
        using (var other = await TestApi.Client(stranger.Token).GetAsync($"/v1/tenants/{tenantId}/branding/logo.png"))
        {
            await TestApi.ExpectProblemAsync(other, HttpStatusCode.NotFound, "not_found");
        }
        // A replacement that leaves logo_png out clears it, as every field of the replacement.
        using (var cleared = await PutAsync(owner, tenantId, new { product_name = "Acme" }))
        {
            await TestApi.ExpectAsync(cleared, HttpStatusCode.OK);
        }
        using (var gone = await TestApi.Client(viewer.Token).GetAsync($"/v1/tenants/{tenantId}/branding/logo.png"))
        {
            await TestApi.ExpectProblemAsync(gone, HttpStatusCode.NotFound, "not_found");
        }
    }

    [Test]
    public async Task A_plan_without_branding_gets_403_and_a_downgrade_stops_showing_it()
    {
        var owner = await TestApi.SignUpAsync();
        var free = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        using (var refused = await PutAsync(owner, free, Acme))
        {
            var problem = await TestApi.ExpectProblemAsync(refused, HttpStatusCode.Forbidden, "feature_not_in_plan");
            Assert.That((string?)problem["feature"], Is.EqualTo("branding"));
        }

        var (pro, tenantId, slug) = await ProfessionalTenantAsync();
        using (var put = await PutAsync(pro, tenantId, Acme))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }
        using (var scope = TestApi.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new ChangeTenantPlan(Caller.System, tenantId, PlanCatalog.Starter));
        }
        using var anonymous = await TestApi.Client().GetAsync($"/v1/branding?host={slug}.platform.localhost");
        await TestApi.ExpectAsync(anonymous, HttpStatusCode.OK);
        var body = await TestApi.ReadAsync(anonymous);
        Assert.Multiple(() =>
        {
            Assert.That((string?)body["product_name"], Is.EqualTo("Tenant " + slug), "the tenant's own name once branding is gone");
            Assert.That(body["logo_url"], Is.Null);
        });
        Assert.That(await OwnerSql.CountAsync("SELECT count(*) FROM tenant_branding", tenantId), Is.EqualTo(1), "the data stays");
    }

    [Test]
    public async Task The_tenants_emails_carry_its_logo_colour_product_name_and_sender_name_escaped_and_other_tenants_do_not()
    {
        await using var smtp = new SmtpTestServer();
        await using var engines = TestEngines.Build(smtp.EmailSettings());
        var (owner, tenantId, _) = await ProfessionalTenantAsync();
        var plain = await TestApi.CreateTenantAsync(owner, plan: PlanCatalog.Free);
        using (var put = await PutAsync(owner, tenantId, Acme))
        {
            await TestApi.ExpectAsync(put, HttpStatusCode.OK);
        }
        await QueuedAccountEmails.DropAsync();
        await InvitationApiTests.InviteAsync(owner, tenantId, "invitee@example.test");
        await InvitationApiTests.InviteAsync(owner, plain, "plain@example.test");
        var mediator = engines.GetRequiredService<IMediator>();
        await mediator.Send(new EnqueueUsageAlertEmail(Caller.System, tenantId, "runs_per_day", 90, 900, 1000, "https://app.example.test/usage", "alerts@example.test"));
        await mediator.Send(new EnqueuePaymentFailedEmail(Caller.System, tenantId, 4_900, "usd", "https://app.example.test/billing", "billing@example.test"));

        var result = await mediator.Send(new DispatchEmails());
        Assert.That(result.Sent, Is.EqualTo(4));
        var messages = smtp.Messages;
        var branded = messages.Where(m => m.To.Mailboxes.Single().Address != "plain@example.test").ToList();
        Assert.That(branded, Has.Count.EqualTo(3));
        foreach (var mail in branded)
        {
            var from = mail.From.Mailboxes.Single();
            Assert.Multiple(() =>
            {
                Assert.That(from.Name, Is.EqualTo("Acme \"Support\""), "the sender display name");
                Assert.That(from.Address, Is.EqualTo("no-reply@platform.test"), "the address stays the platform's");
                Assert.That(mail.HtmlBody, Does.Contain("<img src=\"https://cdn.example.test/acme/logo.png?size=2&amp;x=&lt;y&gt;\""));
                Assert.That(mail.HtmlBody, Does.Contain("Acme &lt;Cloud&gt; &amp; Co").And.Not.Contain("Acme <Cloud>"));
                Assert.That(mail.HtmlBody, Does.Contain("color: #ff5500"));
                Assert.That(mail.TextBody, Does.Contain("Acme <Cloud> & Co"));
            });
        }
        var unbranded = messages.Single(m => m.To.Mailboxes.Single().Address == "plain@example.test");
        Assert.Multiple(() =>
        {
            Assert.That(unbranded.From.Mailboxes.Single().Name, Is.EqualTo("Platform"));
            Assert.That(unbranded.HtmlBody, Does.Not.Contain("Acme").And.Not.Contain("<img").And.Contain("color: " + EmailTemplates.DefaultColor));
        });
    }
}
