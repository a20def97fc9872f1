using Platform.Engines.Hosting;

namespace Platform.Engines.Credits;

/// <summary>Registers credits; its use cases need nothing beyond the scanned handlers.</summary>
internal sealed class CreditsModule : IFeatureModule;
