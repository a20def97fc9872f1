using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Users;

/// <summary>Registers users and sign-in: the password settings (Auth:BcryptWorkFactor) and the bcrypt password hasher.</summary>
internal sealed class UsersModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<PasswordOptions>("Auth");
        services.AddSingleton<IPasswordHasher, BcryptPasswordHasher>();
    }
}
