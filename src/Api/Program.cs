using Microsoft.Extensions.Options;
using Platform.Api.Hosting;

if (PlatformCli.TryRunWithoutHost(args) is { } exitCode)
{
    return exitCode;
}

try
{
    // The content root is the app's own folder, so its appsettings.json is read wherever the process was started from (ADR 0580).
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = PlatformCli.IsVerb(args) ? [] : args,
        ContentRootPath = AppContext.BaseDirectory,
    });
    builder.AddPlatformApi();
    var app = builder.Build();
    app.UsePlatformApi();
    return await PlatformCli.RunAsync(app, args);
}
catch (OptionsValidationException e) when (PlatformCli.IsOwnProcess)
{
    // A setting out of bounds: one line per failing key, no stack trace (ADR 0440).
    Console.Error.WriteLine($"Configuration error: {string.Join(" ", e.Failures)}");
    return 1;
}
catch (InvalidOperationException e) when (PlatformCli.IsOwnProcess && e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
{
    // A value of the wrong type (Platform__RunJobs=maybe): the binder's message names the key.
    Console.Error.WriteLine($"Configuration error: {e.Message}");
    return 1;
}

/// <summary>Is the entry point, public so that the tests' WebApplicationFactory can host it.</summary>
public partial class Program;
