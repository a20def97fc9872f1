using Microsoft.Extensions.DependencyInjection;

namespace Platform.Engines.Hosting;

/// <summary>Registers one feature's singletons and background jobs; every feature folder of the engines has one, found by discovery.</summary>
/// <remarks>
/// Adding a feature adds its module beside its use cases and edits no central list: <see cref="FeatureModules"/> finds every module in this
/// assembly. Handlers, validators and drivers are not listed here: Scrutor's scan registers them.
/// </remarks>
public interface IFeatureModule
{
    /// <summary>Registers the feature's singletons (and its pipeline behaviours, if any).</summary>
    void AddServices(IServiceCollection services)
    {
    }

    /// <summary>Registers the feature's periodic jobs; the API calls it when Platform:RunJobs is on, src/Worker always.</summary>
    void AddJobs(IServiceCollection services)
    {
    }
}

/// <summary>Finds the feature modules of the engines by reflection, in a stable order (by name).</summary>
public static class FeatureModules
{
    /// <summary>Gets one instance of every feature module of the engines.</summary>
    public static IReadOnlyList<IFeatureModule> All { get; } = typeof(IFeatureModule).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IFeatureModule).IsAssignableFrom(t))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .Select(t => (IFeatureModule)Activator.CreateInstance(t, nonPublic: true)!)
        .ToList();
}
