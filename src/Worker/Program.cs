using Platform.Engines;

// The background-job host: the same jobs the API runs in-process, as a separate process.
// Any number of copies may run beside the API; every job claims its work in the database.
// Settings come from configuration, each feature binding its own section, validated when the host starts (ADR 0440).
// The content root is the app's own folder, so its appsettings.json is read wherever the process was started from (ADR 0580).
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddEngines();
builder.Services.AddPlatformJobs();
await builder.Build().RunAsync();
