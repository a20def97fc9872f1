using Microsoft.Extensions.Options;
using Platform.Engines;
using Platform.Engines.Hosting;

// The background-job host: the same jobs the API runs in-process, as a separate process.
// Any number of copies may run beside the API; every job claims its work in the database.
// Settings come from configuration, each feature binding its own section, validated when the host starts (ADR 0440).
try
{
    // The content root is the app's own folder, so its appsettings.json is read wherever the process was started from (ADR 0580).
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.Services.AddEngines();
    // Traces of the jobs' commands, HttpClient and Npgsql, exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (ADR 0584).
    builder.Services.AddPlatformTelemetry(builder.Configuration, "platform-worker");
    builder.Services.AddPlatformJobs();
    await builder.Build().RunAsync();
    return 0;
}
catch (OptionsValidationException e)
{
    // A setting out of bounds: one line per failing key, no stack trace (ADR 0440).
    Console.Error.WriteLine($"Configuration error: {string.Join(" ", e.Failures)}");
    return 1;
}
catch (InvalidOperationException e) when (e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
{
    // A value of the wrong type (Email__Smtp__Port=abc): the binder's message names the key.
    Console.Error.WriteLine($"Configuration error: {e.Message}");
    return 1;
}
