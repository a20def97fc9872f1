namespace Platform.Tests.Hosting;

/// <summary>Starts the built API and Worker as processes with a bad environment variable, as an operator would set it: the start fails with exit
/// code 1 and one line naming the key, before anything listens or runs (ADR 0440).</summary>
public sealed class StartupConfigurationTests
{
    [TestCase("Email__Smtp__Security", "bogus", "Email:Smtp:Security")]
    [TestCase("Billing__TrialEndAction", "bogus", "Billing:TrialEndAction")]
    [TestCase("Webhooks__TimeoutSeconds", "0", "Webhooks:TimeoutSeconds")]
    [TestCase("Platform__RunJobs", "bogus", "Platform:RunJobs")]
    [CancelAfter(60_000)]
    public async Task The_api_refuses_to_start_and_names_the_key(string variable, string value, string key, CancellationToken cancellationToken)
    {
        await using var api = ServiceProcess.StartApi(ServiceProcess.ApiFolder, new Dictionary<string, string> { [variable] = value });

        var exitCode = await api.WaitForExitAsync(TimeSpan.FromSeconds(45), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(1), api.Output);
            Assert.That(api.Lines, Has.Some.Contains(key), api.Output);
            Assert.That(api.Lines, Has.None.Contains("Now listening on"), api.Output);
            Assert.That(api.Lines, Has.None.Contains("   at "), "no stack trace: " + api.Output);
        });
    }

    [TestCase("Email__Smtp__Security", "bogus", "Email:Smtp:Security")]
    [TestCase("Billing__TrialEndAction", "bogus", "Billing:TrialEndAction")]
    [CancelAfter(60_000)]
    public async Task The_worker_refuses_to_start_and_names_the_key(string variable, string value, string key, CancellationToken cancellationToken)
    {
        await using var worker = ServiceProcess.StartWorker(Path.GetTempPath(), new Dictionary<string, string> { [variable] = value });

        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(45), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(1), worker.Output);
            Assert.That(worker.Lines, Has.Some.Contains(key), worker.Output);
            Assert.That(worker.Lines, Has.None.Contains("Heartbeat: database time"), "no job ran: " + worker.Output);
        });
    }
}
