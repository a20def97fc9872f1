namespace Platform.Tests.Hosting;

/// <summary>Proves that the API and the Worker read their own appsettings.json wherever they are started from: the content root is the app's
/// folder, not the working directory (ADR 0580).</summary>
public sealed class ContentRootTests
{
    [Test]
    [CancelAfter(90_000)]
    public async Task The_api_started_from_another_folder_applies_the_log_levels_of_its_appsettings(CancellationToken cancellationToken)
    {
        var elsewhere = Directory.CreateTempSubdirectory("platform-cwd-");
        try
        {
            await using var api = ServiceProcess.StartApi(elsewhere.FullName);
            using var client = new HttpClient();
            await api.WaitUntilServingAsync(client, TimeSpan.FromSeconds(45), cancellationToken);
            for (var i = 0; i < 3; i++)
            {
                using var _ = await client.GetAsync(new Uri(api.Url!, "/v1/plans"), cancellationToken);
            }
            await Task.Delay(300, cancellationToken);

            Assert.Multiple(() =>
            {
                // appsettings.json: Default Information, Microsoft.AspNetCore Warning. Without the file every request writes "Request starting".
                Assert.That(api.Lines, Has.Some.Contains("Now listening on"), api.Output);
                Assert.That(api.Lines, Has.None.Contains("Request starting"), api.Output);
                Assert.That(api.Lines, Has.None.Contains("Request finished"), api.Output);
            });
        }
        finally
        {
            elsewhere.Delete(recursive: true);
        }
    }
}
