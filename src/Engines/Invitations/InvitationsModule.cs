using Platform.Engines.Hosting;

namespace Platform.Engines.Invitations;

/// <summary>Registers invitations; its use cases need nothing beyond the scanned handlers.</summary>
internal sealed class InvitationsModule : IFeatureModule;
