namespace Platform.UnitTests.Architecture.Deliberate.Shared;

/// <summary>A shared folder that depends on a feature: the deliberate violation FeatureGraphTests must catch.</summary>
internal sealed class SharedBehaviour(Left.LeftUseCase useCase)
{
    public Left.LeftUseCase UseCase { get; } = useCase;
}
