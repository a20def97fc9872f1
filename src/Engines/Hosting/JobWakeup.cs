namespace Platform.Engines.Hosting;

/// <summary>Tells a job that work may be waiting before its next poll: <see cref="Next"/> completes at the next <see cref="Signal"/>. It carries no
/// data and decides nothing, so a job may wait on it beside the commands it sends (the architecture rule "jobs only send commands" allows it).
/// A job takes <see cref="Next"/> before it claims and waits on it (or its poll interval) after, so a signal that arrives during a round is not lost.</summary>
public class JobWakeup
{
    private TaskCompletionSource signal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes at the next signal.</summary>
    public Task Next => Volatile.Read(ref signal).Task;

    /// <summary>Completes the current <see cref="Next"/> and arms a new one.</summary>
    public void Signal() =>
        Interlocked.Exchange(ref signal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
