using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Users;

/// <summary>Registers users and sign-in: the password settings (Auth:BcryptWorkFactor) and the bcrypt password hasher, and the account flows (section "Accounts": sessions, email tokens).</summary>
internal sealed class UsersModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<PasswordOptions>("Auth");
        services.AddSingleton<IPasswordHasher, BcryptPasswordHasher>();
        services.AddFeatureOptions<AccountOptions>("Accounts");
        services.AddSingleton<SessionLiveness>();
        services.AddSingleton<AccountEmails>();
    }
}
