namespace Platform.UnitTests.Architecture.Deliberate.Left;

/// <summary>Depends on Right, which depends back on it: the deliberate cycle FeatureGraphTests must catch.</summary>
internal sealed class LeftUseCase
{
    public static int Run() => Right.RightUseCase.Count() + 1;
}
