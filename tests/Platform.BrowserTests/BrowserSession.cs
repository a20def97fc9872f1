using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Platform.BrowserTests;

/// <summary>Is one person's browser (its own context: cookies, storage) that records console errors and failed requests and checks pages with axe.</summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly List<string> problems = [];

    private BrowserSession(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }

    /// <summary>Lists the console errors and failed requests seen so far.</summary>
    public IReadOnlyList<string> Problems => problems;

    public static async Task<BrowserSession> OpenAsync(int width = 1280, int height = 860)
    {
        var context = await BrowserFixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BrowserFixture.BaseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var session = new BrowserSession(context, page);
        page.Console += (_, message) =>
        {
            // The first refresh of a visitor without a session answers 401 by design (there is no cookie to trade); any other error counts.
            if (message.Type == "error" && !message.Location.Contains("/v1/auth/refresh", StringComparison.Ordinal))
            {
                session.problems.Add($"console: {message.Text} at {message.Location}");
            }
        };
        page.PageError += (_, error) => session.problems.Add($"page error: {error}");
        page.RequestFailed += (_, request) => session.problems.Add($"request failed: {request.Method} {request.Url} {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 500)
            {
                session.problems.Add($"{response.Status} from {response.Request.Method} {response.Url}");
            }
        };
        return session;
    }

    /// <summary>Names the pages whose screenshots go to docs/screenshots (the README's screens, at 1280 px but sign-in-390) and the file
    /// name each gets there; every other page's screenshot stays a test artefact only.</summary>
    private static readonly Dictionary<string, string> DocsScreens = new(StringComparer.Ordinal)
    {
        ["sign-in"] = "sign-in", ["sign-in-390"] = "sign-in-390", ["create-tenant"] = "create-tenant", ["overview"] = "overview",
        ["usage"] = "usage", ["billing"] = "billing", ["members"] = "members", ["invite-member"] = "invite-member",
        ["accept-invitation"] = "accept-invitation", ["api-keys"] = "api-keys", ["create-api-key"] = "create-api-key",
        ["admin-sign-in"] = "admin-sign-in", ["admin-tenants"] = "admin-tenants", ["admin-tenant"] = "admin-tenant",
        ["admin-tenant-data-1280"] = "admin-tenant-detail", ["admin-totp-enrolment-1280"] = "admin-totp-enrolment",
    };

    /// <summary>Runs axe on the page and fails on any serious or critical violation; keeps a screenshot named for the page as an artefact.</summary>
    public async Task CheckPageAsync(string name)
    {
        await ScreenshotAsync(Path.Combine(BrowserFixture.ArtefactFolder, name + ".png"), fullPage: true, required: false);
        if (Environment.GetEnvironmentVariable("PLATFORM_UPDATE_SCREENSHOTS") == "1" && DocsScreens.TryGetValue(name, out var docsName))
        {
            var docs = Path.Combine(BrowserFixture.Root, "docs", "screenshots");
            Directory.CreateDirectory(docs);
            await ScreenshotAsync(Path.Combine(docs, docsName + ".png"), fullPage: false, required: true);
        }
        var result = await Page.RunAxe();
        var serious = result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html).Take(3))}")
            .ToList();
        Assert.That(serious, Is.Empty, $"axe found serious or critical violations on {name}");
    }

    /// <summary>Takes a screenshot in at most three tries of 10 s each. Headless Chromium's capture now and then never answers while the
    /// machine is loaded (before ADR 0822 this project ran beside the integration suite): once it held a test for its whole 30 s after the page had
    /// rendered and every expectation had passed. A test artefact (not <paramref name="required"/>) that fails three times is named in the
    /// test's output and skipped, since no assertion reads it; a README screen fails the run.</summary>
    private async Task ScreenshotAsync(string path, bool fullPage, bool required)
    {
        const int Tries = 3;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage, Animations = ScreenshotAnimations.Disabled, Timeout = 10_000 });
                return;
            }
            catch (TimeoutException error) when (attempt < Tries || !required)
            {
                TestContext.Out.WriteLine($"screenshot {Path.GetFileName(path)}, try {attempt} of {Tries}: {error.Message.Split('\n')[0]}");
                if (attempt == Tries)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Fails on any console error or failed request but the refusals the test provoked on purpose, each named by status and path
    /// and path prefix (such as "409 /v1/tenants"); each of those must have happened.</summary>
    public void AssertNoProblems(params string[] provoked)
    {
        var expected = provoked.Select(p => p.Split(' ', 2)).Select(p => $"status of {p[0]} ").Zip(provoked.Select(p => BrowserFixture.BaseUrl + p.Split(' ', 2)[1])).ToList();
        bool IsProvoked(string line) => expected.Any(e => line.Contains(e.First, StringComparison.Ordinal) && line.Contains(e.Second, StringComparison.Ordinal));
        Assert.Multiple(() =>
        {
            Assert.That(problems.Where(line => !IsProvoked(line)), Is.Empty, "console errors or failed requests");
            Assert.That(expected.Where(e => !problems.Any(line => line.Contains(e.First, StringComparison.Ordinal) && line.Contains(e.Second, StringComparison.Ordinal))),
                Is.Empty, "refusals the test provoked but the browser did not see");
        });
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
