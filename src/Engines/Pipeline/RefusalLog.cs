namespace Platform.Engines.Pipeline;

/// <summary>Lets a caller say that the refusals of the commands it sends are expected, so that the pipeline logs them at debug level instead of
/// information: the start-up warm-up sends keys that do not exist on purpose, and its 401s must not read like an attack in the log (ADR 0800).</summary>
public static class RefusalLog
{
    private static readonly AsyncLocal<bool> Quiet = new();

    /// <summary>Gets whether refusals in the current flow are expected (logged at debug level).</summary>
    public static bool IsQuiet => Quiet.Value;

    /// <summary>Marks the refusals of the current asynchronous flow, and of every flow it starts, as expected.</summary>
    public static void Expect() => Quiet.Value = true;
}
