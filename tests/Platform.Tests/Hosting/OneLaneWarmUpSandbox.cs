using Platform.Engines.Health;

namespace Platform.Tests.Hosting;

/// <summary>Runs the warm-up's sandboxes with one lane, as the sandbox tests that need only one do (the service always names its lanes).</summary>
internal static class OneLaneWarmUpSandbox
{
    /// <summary>Runs one lane: the set-up, then the traffic while the sandbox is open to the warm-up's requests.</summary>
    public static Task RunAsync(this WarmUpSandboxes sandboxes, Func<CancellationToken, Task> setup, Func<CancellationToken, Task> traffic,
        CancellationToken cancellationToken) =>
        sandboxes.RunAsync(1, async (_, token) =>
        {
            await setup(token);
            return 0;
        }, (_, token) => traffic(token), cancellationToken);

    /// <summary>Runs the rest of a warm-up request inside the one lane's sandbox.</summary>
    public static Task RunRequestAsync(this WarmUpSandboxes sandboxes, Func<Task> next, CancellationToken cancellationToken) =>
        sandboxes.RunRequestAsync(0, next, cancellationToken);
}
