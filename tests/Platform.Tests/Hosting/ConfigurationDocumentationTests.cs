using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Platform.Api.Hosting;
using Platform.Engines.Hosting;

namespace Platform.Tests.Hosting;

/// <summary>Proves that the README's configuration table names every key the API binds: each options record registered through
/// AddFeatureOptions is walked, nested records included, and each key must appear in README.md as an environment variable.</summary>
public sealed class ConfigurationDocumentationTests
{
    [Test]
    public void Every_bound_setting_is_in_the_readme()
    {
        var builder = WebApplication.CreateBuilder();
        builder.AddPlatformApi();
        var readme = File.ReadAllText(Path.Combine(ServiceProcess.RepositoryRoot, "README.md"));

        var keys = builder.Services
            .Where(d => d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(Microsoft.Extensions.Options.IValidateOptions<>)
                && d.ImplementationInstance?.GetType().GetGenericTypeDefinition() == typeof(ConfigurationKeyValidation<>))
            .SelectMany(d => KeysOf(d.ServiceType.GetGenericArguments()[0],
                (string)d.ImplementationInstance!.GetType().GetProperty(nameof(ConfigurationKeyValidation<object>.Section))!.GetValue(d.ImplementationInstance)!))
            .Distinct()
            .ToList();

        Assert.That(keys, Has.Count.GreaterThan(60), "the walk found the options records");
        Assert.That(keys.Where(k => !readme.Contains("`" + k, StringComparison.Ordinal)), Is.Empty, "keys missing from README.md's table");
    }

    private static IEnumerable<string> KeysOf(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is not null))
        {
            var key = $"{prefix}__{property.Name}";
            if (property.PropertyType.IsClass && property.PropertyType.Namespace?.StartsWith("Platform.", StringComparison.Ordinal) == true)
            {
                foreach (var nested in KeysOf(property.PropertyType, key))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return key;
            }
        }
    }
}
