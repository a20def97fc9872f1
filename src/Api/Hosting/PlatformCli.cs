using MediatR;
using Platform.Engines.Billing;
using Platform.Engines.Health;
using Platform.Engines.Hosting;
using Platform.Engines.Operators;
using Platform.Engines.Tenants;
using Platform.Engines.Users;
using Platform.Models;
using Platform.Models.Errors;

namespace Platform.Api.Hosting;

/// <summary>Runs the service's command-line verbs: serve (the default), migrate, seed-demo, create-operator, help.</summary>
public static class PlatformCli
{
    private static readonly (string Verb, string Help)[] Verbs =
    [
        ("serve", "run the HTTP API (and, unless Platform:RunJobs=false, the background jobs); the default"),
        ("migrate", "apply pending migrations with ConnectionStrings:PlatformOwner"),
        ("seed-demo", "create the demo user and tenant if they do not exist"),
        ("create-operator", "--email X --role super_admin|support|billing|viewer [--name N] [--password P]: create an operator; prints the TOTP secret once"),
        ("close-period", "YYYY-MM: close an ended UTC month (invoice every tenant that owes something); prints a summary"),
        ("help", "print this list"),
    ];

    /// <summary>Answers "help", "verb-exists NAME" and unknown verbs without a database; returns null when the verb needs the host.</summary>
    public static int? TryRunWithoutHost(string[] args)
    {
        if (!IsVerb(args))
        {
            return null;
        }
        var verb = args[0];
        if (verb == "verb-exists")
        {
            var known = args.Length > 1 && Verbs.Any(v => v.Verb == args[1]);
            if (!known)
            {
                Console.Error.WriteLine($"Unknown verb '{(args.Length > 1 ? args[1] : "")}'.");
                PrintVerbs(Console.Error);
            }
            return known ? 0 : 2;
        }
        if (verb == "help")
        {
            PrintVerbs(Console.Out);
            return 0;
        }
        if (Verbs.All(v => v.Verb != verb))
        {
            Console.Error.WriteLine($"Unknown verb '{verb}'.");
            PrintVerbs(Console.Error);
            return 2;
        }
        return null;
    }

    /// <summary>Tells whether this process is the API itself, not a test host running its entry point (WebApplicationFactory wants the exception).</summary>
    public static bool IsOwnProcess => System.Reflection.Assembly.GetEntryAssembly() == typeof(PlatformCli).Assembly;

    /// <summary>Tells whether the first argument names a verb (the builder then gets no arguments).</summary>
    public static bool IsVerb(string[] args) => args.Length > 0 && !args[0].StartsWith('-');

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var verb = IsVerb(args) ? args[0] : "serve";
        switch (verb)
        {
            case "serve":
                // A setting out of bounds stops the service before it migrates anything, not only when the host starts (ADR 0440).
                app.Services.ValidateOptionsNow();
                await MigrateIfOwnerConfiguredAsync(app);
                if (app.Services.GetRequiredService<SeedOptions>().Demo)
                {
                    await SeedDemoAsync(app);
                }
                app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"Platform is listening on {string.Join(", ", app.Urls)}"));
                await app.RunAsync();
                return 0;
            case "migrate":
                return await MigrateIfOwnerConfiguredAsync(app) ? 0 : 1;
            case "seed-demo":
                await MigrateIfOwnerConfiguredAsync(app);
                await SeedDemoAsync(app);
                return 0;
            case "create-operator":
                await MigrateIfOwnerConfiguredAsync(app);
                return await CreateOperatorAsync(app, args[1..]);
            case "close-period":
                await MigrateIfOwnerConfiguredAsync(app);
                return await ClosePeriodAsync(app, args[1..]);
            default:
                throw new InvalidOperationException($"The verb '{verb}' has no handler.");
        }
    }

    /// <summary>Closes one ended month as the system and prints what it did; a month that has not ended, or a malformed one, exits with 1.</summary>
    private static async Task<int> ClosePeriodAsync(WebApplication app, string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("Usage: ./platform close-period YYYY-MM   (for example ./platform close-period 2026-10)");
            return 2;
        }
        await using var scope = app.Services.CreateAsyncScope();
        try
        {
            var s = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new CloseBillingPeriod(Caller.System, args[0]));
            Console.WriteLine($"Closed {s.Period} ({s.PeriodStart:yyyy-MM-dd} to {s.PeriodEnd:yyyy-MM-dd}, UTC) in {s.Elapsed.TotalSeconds:0.00} s:");
            Console.WriteLine($"  tenants invoiced now:         {s.InvoicesCreated} (total {Money(s.CreatedTotalCents)})");
            Console.WriteLine($"  skipped as already invoiced:  {s.SkippedAlreadyInvoiced}");
            Console.WriteLine($"  nothing to bill:              {s.NothingToBill}");
            Console.WriteLine($"  invoices of the month:        {s.PeriodInvoices} (total {Money(s.PeriodTotalCents)})");
            return 0;
        }
        catch (ValidationFailedException e)
        {
            Console.Error.WriteLine(string.Join(" ", e.Errors.SelectMany(x => x.Value)));
            return 1;
        }
    }

    private static string Money(long cents) =>
        (cents / 100m).ToString("$#,##0.00", System.Globalization.CultureInfo.InvariantCulture);

    private static void PrintVerbs(TextWriter writer)
    {
        writer.WriteLine("Verbs of ./platform:");
        writer.WriteLine("  run        start the embedded database (unless ConnectionStrings__Platform is set) and serve");
        writer.WriteLine("  test       run every test against a throwaway database");
        foreach (var (name, help) in Verbs)
        {
            writer.WriteLine($"  {name,-10} {help}");
        }
    }

    private static async Task<bool> MigrateIfOwnerConfiguredAsync(WebApplication app)
    {
        var owner = app.Services.GetRequiredService<ConnectionStringsOptions>().PlatformOwner;
        if (string.IsNullOrEmpty(owner))
        {
            app.Logger.LogWarning("ConnectionStrings:PlatformOwner is not set; migrations were not applied");
            return false;
        }
        await using var scope = app.Services.CreateAsyncScope();
        var applied = await scope.ServiceProvider.GetRequiredService<IMediator>().Send(new MigrateDatabase(owner));
        Console.WriteLine(applied.Count == 0 ? "Database schema is up to date." : $"Applied migrations: {string.Join(", ", applied)}");
        return true;
    }

    private static async Task SeedDemoAsync(WebApplication app)
    {
        var seed = app.Services.GetRequiredService<SeedOptions>();
        var email = seed.DemoEmail;
        var password = seed.DemoPassword ?? throw new InvalidOperationException("Seed:DemoPassword is not set.");
        await using var scope = app.Services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        Models.Users.UserSnapshot user;
        // Sign-up no longer tells a registered email apart (ADR 0187): it answers an invented user. So an earlier start's demo owner is
        // found by signing in first, and only an unknown one is signed up.
        try
        {
            user = await mediator.Send(new LogIn(email, password, null));
        }
        catch (UnauthorizedException)
        {
            user = await mediator.Send(new SignUp(email, password, "Demo Owner", null));
        }
        try
        {
            await mediator.Send(new CreateTenant(Caller.User(user.Id), "Demo Company", "demo", null, email));
        }
        catch (ConflictException)
        {
            // Already seeded on an earlier start.
        }
        Console.WriteLine($"Demo tenant 'demo' owner: {email} / {password}");
        await SeedDemoOperatorAsync(app, mediator, password);
    }

    /// <summary>Seeds the demo super_admin operator with the TOTP secret from Seed:OperatorTotpSecret (./platform run keeps one in its data folder), and prints how to sign in.</summary>
    private static async Task SeedDemoOperatorAsync(WebApplication app, IMediator mediator, string password)
    {
        var seed = app.Services.GetRequiredService<SeedOptions>();
        var email = seed.OperatorEmail;
        var secret = seed.OperatorTotpSecret;
        if (string.IsNullOrEmpty(secret))
        {
            app.Logger.LogWarning("Seed:OperatorTotpSecret is not set; the demo operator was not seeded");
            return;
        }
        try
        {
            await mediator.Send(new CreateOperator(email, "Demo Operator", "super_admin", password, EnableTotp: true, TotpSecret: secret));
        }
        catch (ConflictException)
        {
            // Already seeded on an earlier start.
        }
        Console.WriteLine($"Demo operator (super_admin): {email} / {password}, TOTP secret {secret}");
        Console.WriteLine($"  POST /v1/admin/auth/login {{email, password, totp_code}}; enrol with {TotpSecretsUri(email, secret)}");
    }

    private static string TotpSecretsUri(string email, string secret) =>
        $"otpauth://totp/Platform:{Uri.EscapeDataString(email)}?secret={secret}&issuer=Platform";

    private static async Task<int> CreateOperatorAsync(WebApplication app, string[] args)
    {
        var options = ParseOptions(args);
        if (options is null || !options.TryGetValue("email", out var email) || !options.TryGetValue("role", out var role))
        {
            Console.Error.WriteLine("Usage: create-operator --email X --role super_admin|support|billing|viewer [--name N] [--password P]");
            return 2;
        }
        var generated = !options.TryGetValue("password", out var password);
        password ??= Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        await using var scope = app.Services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        try
        {
            var created = await mediator.Send(new CreateOperator(email, options.GetValueOrDefault("name") ?? email, role, password, EnableTotp: true));
            Console.WriteLine($"Operator {created.Operator.Email} ({created.Operator.Role.ToWire()}) created, id {created.Operator.Id}.");
            if (generated)
            {
                Console.WriteLine($"Password (shown once): {password}");
            }
            Console.WriteLine($"TOTP secret (shown once): {created.TotpSecret}");
            Console.WriteLine($"TOTP URI: {created.OtpAuthUri}");
            return 0;
        }
        catch (ValidationFailedException e)
        {
            foreach (var (field, messages) in e.Errors)
            {
                Console.Error.WriteLine($"{field}: {string.Join(" ", messages)}");
            }
            return 2;
        }
        catch (ConflictException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>Reads "--key value" pairs; returns null when a key has no value.</summary>
    private static Dictionary<string, string>? ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                return null;
            }
            options[args[i][2..]] = args[i + 1];
        }
        return options;
    }
}
