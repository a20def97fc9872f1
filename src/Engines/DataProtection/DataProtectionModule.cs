using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Engines.Hosting;

namespace Platform.Engines.DataProtection;

/// <summary>Keeps the Data Protection key ring in PostgreSQL, its key material encrypted with DataProtection:KeyEncryptionKey (section "DataProtection", ADR 0196).</summary>
internal sealed class DataProtectionModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddFeatureOptions<KeyRingOptions>("DataProtection");
        services.AddSingleton<IValidateOptions<KeyRingOptions>, KeyRingOptionsValidation>();
        services.AddDataProtection().SetApplicationName("platform");
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<KeyRingOptions>();
            return new KeyEncryptionKeys(options.KeyEncryptionKey, options.OldKeys());
        });
        services.AddSingleton<PostgresXmlRepository>();
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(o =>
        {
            o.XmlRepository = provider.GetRequiredService<PostgresXmlRepository>();
            var keks = provider.GetRequiredService<KeyEncryptionKeys>();
            if (keks.Current is not null)
            {
                o.XmlEncryptor = new AesGcmXmlEncryptor(keks);
            }
        }));
    }
}
