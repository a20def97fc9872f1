using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Contract;

/// <summary>Fails when the dashboard's typed client is stale: web/openapi.json must be the document the service serves, and
/// web/src/api/schema.d.ts what openapi-typescript generates from it (ADR 0590).</summary>
/// <remarks>After a change of the API, PLATFORM_UPDATE_WEB_CLIENT=1 ./platform test --filter FullyQualifiedName~WebClientSnapshot rewrites both files.</remarks>
[NonParallelizable]
public sealed class WebClientSnapshotTests
{
    private static readonly string Web = Path.GetFullPath(Path.Combine(ContractTools.Folder, "..", "..", "web"));
    private static readonly string Snapshot = Path.Combine(Web, "openapi.json");
    private static readonly string Schema = Path.Combine(Web, "src", "api", "schema.d.ts");
    private static bool Update => Environment.GetEnvironmentVariable("PLATFORM_UPDATE_WEB_CLIENT") == "1";

    [Test, Order(1)]
    public async Task The_snapshot_in_web_is_the_document_the_service_serves()
    {
        await using var service = await LiveService.StartAsync();
        var (_, served) = await service.ReadDocumentAsync();
        // The servers list names the port of this run; the snapshot leaves it out.
        served.Remove("servers");
        if (Update)
        {
            await File.WriteAllTextAsync(Snapshot, served.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
        }
        var snapshot = JsonNode.Parse(await File.ReadAllTextAsync(Snapshot))!;
        Assert.That(JsonNode.DeepEquals(served, snapshot), Is.True,
            "web/openapi.json differs from the served document: the dashboard's client is stale. Run PLATFORM_UPDATE_WEB_CLIENT=1 ./platform test --filter FullyQualifiedName~WebClientSnapshot and commit web/openapi.json and web/src/api/schema.d.ts.");
    }

    [Test, Order(2)]
    public async Task The_generated_schema_is_what_openapi_typescript_makes_of_the_snapshot()
    {
        await ContractTools.EnsureInstalledAsync();
        var generated = Path.Combine(Path.GetTempPath(), $"platform-schema-{Guid.NewGuid():N}.d.ts");
        try
        {
            var run = await ContractTools.RunAsync(ContractTools.Bin("openapi-typescript"), [Snapshot, "--output", generated], TimeSpan.FromMinutes(2));
            Assert.That(run.ExitCode, Is.Zero, run.Output);
            if (Update)
            {
                File.Copy(generated, Schema, overwrite: true);
            }
            Assert.That(await File.ReadAllTextAsync(Schema), Is.EqualTo(await File.ReadAllTextAsync(generated)),
                "web/src/api/schema.d.ts is not generated from web/openapi.json (same openapi-typescript as tests/contract): regenerate it.");
        }
        finally
        {
            File.Delete(generated);
        }
    }
}
