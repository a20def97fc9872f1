using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Invitations;

/// <summary>Registers invitations: their settings (section "Invitations"); the use cases are the scanned handlers.</summary>
internal sealed class InvitationsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services) => services.AddFeatureOptions<InvitationsOptions>("Invitations");
}
