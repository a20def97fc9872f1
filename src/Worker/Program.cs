using Platform.Engines;

// The background-job host: the same jobs the API runs in-process, as a separate process.
// Any number of copies may run beside the API; every job claims its work in the database.
// Settings come from configuration, each feature binding its own section, validated when the host starts (ADR 0440).
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddEngines();
builder.Services.AddPlatformJobs();
await builder.Build().RunAsync();
