using Platform.Engines.Hosting;

namespace Platform.Engines.Support;

/// <summary>Registers support tickets; its use cases need nothing beyond the scanned handlers.</summary>
internal sealed class SupportModule : IFeatureModule;
