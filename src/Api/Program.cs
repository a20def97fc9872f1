using Platform.Api.Hosting;

if (PlatformCli.TryRunWithoutHost(args) is { } exitCode)
{
    return exitCode;
}

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

/// <summary>Is the entry point, public so that the tests' WebApplicationFactory can host it.</summary>
public partial class Program;
