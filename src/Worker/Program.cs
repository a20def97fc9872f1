using Platform.Engines;

// The background-job host: the same jobs the API runs in-process, as a separate process.
// Any number of copies may run beside the API; every job claims its work in the database.
var builder = Host.CreateApplicationBuilder(args);
var configuration = builder.Configuration;
var connectionString = configuration.GetConnectionString("Platform")
    ?? throw new InvalidOperationException("ConnectionStrings:Platform is not set.");
builder.Services.AddEngines(connectionString, o =>
{
    o.ReadFrom(configuration);
    o.RequireKeyEncryptionKey = !builder.Environment.IsDevelopment();
});
builder.Services.AddPlatformJobs();
await builder.Build().RunAsync();
