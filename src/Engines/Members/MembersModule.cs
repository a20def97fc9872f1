using Platform.Engines.Hosting;

namespace Platform.Engines.Members;

/// <summary>Registers members; its use cases need nothing beyond the scanned handlers.</summary>
internal sealed class MembersModule : IFeatureModule;
