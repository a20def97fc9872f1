using Platform.Api.Hosting;

if (PlatformCli.TryRunWithoutHost(args) is { } exitCode)
{
    return exitCode;
}

var builder = WebApplication.CreateBuilder(PlatformCli.IsVerb(args) ? [] : args);
builder.AddPlatformApi();
var app = builder.Build();
app.UsePlatformApi();
return await PlatformCli.RunAsync(app, args);

/// <summary>Is the entry point, public so that the tests' WebApplicationFactory can host it.</summary>
public partial class Program;
