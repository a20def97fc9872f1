using Microsoft.Extensions.DependencyInjection;
using Platform.Drivers.Sso;
using Platform.Engines.Hosting;

namespace Platform.Engines.Sso;

/// <summary>Registers SSO: its settings (section "Sso"), the OpenID Connect client's settings, the secret box and the domain claims.</summary>
internal sealed class SsoModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<SsoOptions>("Sso")
            .Validate(o => o.PublicBaseUrl.Length == 0 || (Uri.TryCreate(o.PublicBaseUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"),
                "Sso:PublicBaseUrl must be empty or an absolute http(s) URL.")
            .Validate(o => o.CompletionUrl.StartsWith('/') || (Uri.TryCreate(o.CompletionUrl, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"),
                "Sso:CompletionUrl must be a path starting with / or an absolute http(s) URL.");
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<SsoOptions>();
            return new OidcClientSettings(options.AllowLoopbackIssuer, options.TimeoutSeconds);
        });
        services.AddSingleton<SsoSecrets>();
        services.AddSingleton<SsoDomainClaims>();
        services.AddSingleton<SsoAccess>();
        services.AddSingleton<SsoEnforcement>();
    }
}
