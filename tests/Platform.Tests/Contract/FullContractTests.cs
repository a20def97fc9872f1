using System.Net;
using System.Text.Json.Nodes;
using Platform.Api.Hosting;

namespace Platform.Tests.Contract;

/// <summary>Checks what each endpoint declares itself (issue 10): an operationId, a summary and at least one problem response of its own.</summary>
/// <remarks>The endpoints' metadata (WithName, WithSummary, ProducesProblem) is added with the feature folders of src/Api; until then this
/// fails and lists the operations that lack it.</remarks>
public sealed class FullContractTests
{
    [Test]
    public async Task Every_operation_has_an_operation_id_a_summary_and_its_own_problem_responses()
    {
        using var response = await TestApi.Client().GetAsync(OpenApiDocumentSetup.DocumentPath);
        await TestApi.ExpectAsync(response, HttpStatusCode.OK);
        var document = (await TestApi.ReadAsync(response)).AsObject();
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Name: $"{o.Key.ToUpperInvariant()} {p.Key}", Operation: o.Value!.AsObject())))
            .ToList();
        var ids = operations.Select(o => (string?)o.Operation["operationId"]).Where(id => id is not null).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(operations.Where(o => string.IsNullOrWhiteSpace((string?)o.Operation["operationId"])).Select(o => o.Name), Is.Empty, "without operationId");
            Assert.That(ids, Is.Unique, "operationIds repeat");
            Assert.That(operations.Where(o => string.IsNullOrWhiteSpace((string?)o.Operation["summary"])).Select(o => o.Name), Is.Empty, "without summary");
            // Health probes answer 200 or 503 only; every other route refuses something of its own (400..409, 5xx documented by the route).
            Assert.That(operations.Where(o => !o.Name.EndsWith("z", StringComparison.Ordinal) && !OwnProblems(o.Operation).Any()).Select(o => o.Name),
                Is.Empty, "without a problem response of their own");
        });
    }

    /// <summary>Lists the problem responses beyond the ones the document adds to every operation of a kind (ADR 0405).</summary>
    private static IEnumerable<string> OwnProblems(JsonObject operation) =>
        operation["responses"]!.AsObject().Select(r => r.Key)
            .Where(code => int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) >= 400)
            .Where(code => !SharedDescriptions.Contains((string?)operation["responses"]![code]!["description"] ?? ""));

    private static readonly HashSet<string> SharedDescriptions = OpenApiContract.SharedRefusalDescriptions.ToHashSet();
}
