using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Platform.Engines.Hosting;

/// <summary>Registers a feature's options record: bound from its own configuration section, validated when the host starts, its value injectable.</summary>
/// <remarks>
/// Every setting of the API, the Worker and the engines is read this one way (ADR 0440). The data annotations on the record's properties
/// are checked by <see cref="ConfigurationKeyValidation{TOptions}"/>, which does what ValidateDataAnnotations does but names the full
/// configuration key ("The field Billing:DunningGraceDays must be between 0 and 365."), so an operator knows which variable to fix.
/// </remarks>
public static class FeatureOptions
{
    /// <summary>Binds <typeparamref name="TOptions"/> from the section, validates its data annotations at start naming each key, and registers the
    /// bound value itself as a singleton for consumers; returns the builder for rules that need code (<c>.Validate(...)</c>).</summary>
    public static OptionsBuilder<TOptions> AddFeatureOptions<TOptions>(this IServiceCollection services, string section) where TOptions : class
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(new ConfigurationKeyValidation<TOptions>(section)));
        services.TryAddSingleton(provider => provider.GetRequiredService<IOptions<TOptions>>().Value);
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>Runs every registered start-time options validation now, as a host does when it starts; for containers built without a host.</summary>
    /// <exception cref="OptionsValidationException">A setting is invalid; the message names its key.</exception>
    public static void ValidateOptionsNow(this IServiceProvider services) => services.GetService<IStartupValidator>()?.Validate();
}

/// <summary>Checks the data annotations of an options record, and of the records nested in it, naming each failing setting by its configuration key.</summary>
public sealed class ConfigurationKeyValidation<TOptions>(string section) : IValidateOptions<TOptions> where TOptions : class
{
    /// <summary>Gets the configuration section the options are bound from.</summary>
    public string Section => section;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var failures = new List<string>();
        Check(options, section, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(object instance, string prefix, List<string> failures)
    {
        foreach (var property in instance.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null)
            {
                continue;
            }
            var key = $"{prefix}:{property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name}";
            var value = property.GetValue(instance);
            var context = new ValidationContext(instance) { MemberName = property.Name, DisplayName = key };
            foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>(inherit: true))
            {
                if (attribute.GetValidationResult(value, context) is { ErrorMessage: { } message })
                {
                    failures.Add(message);
                }
            }
            // A nested settings record (Email:Smtp) is checked with its own prefix.
            if (value is not null && property.PropertyType.IsClass && property.PropertyType != typeof(string)
                && property.PropertyType.Namespace?.StartsWith("Platform.", StringComparison.Ordinal) == true)
            {
                Check(value, key, failures);
            }
        }
    }
}
