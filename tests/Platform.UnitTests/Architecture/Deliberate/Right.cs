namespace Platform.UnitTests.Architecture.Deliberate.Right;

/// <summary>Depends on Left, which depends on it: the deliberate cycle FeatureGraphTests must catch.</summary>
internal sealed class RightUseCase
{
    public static int Count() => new Left.LeftUseCase().GetHashCode();
}
