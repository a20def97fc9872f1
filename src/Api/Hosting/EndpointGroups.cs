using System.Reflection;

namespace Platform.Api.Hosting;

/// <summary>Is one feature's set of routes; every implementation in the Api assembly is mapped by <see cref="EndpointGroups.MapEndpointGroups"/>.</summary>
/// <remarks>A new feature adds a class that implements this interface beside its contracts and edits no central list
/// (the shape of jasontaylordev's CleanArchitecture endpoint groups; ADR 0400).</remarks>
public interface IEndpointGroup
{
    /// <summary>Maps the feature's routes, with their names, summaries, tags and problem responses.</summary>
    static abstract void Map(IEndpointRouteBuilder routes);
}

/// <summary>Finds and maps every <see cref="IEndpointGroup"/> of the Api assembly.</summary>
public static class EndpointGroups
{
    private static readonly MethodInfo MapOne = typeof(EndpointGroups).GetMethod(nameof(Map), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Lists the endpoint groups of the Api assembly, ordered by name so that the route table is the same on every start.</summary>
    public static IReadOnlyList<Type> All { get; } = typeof(EndpointGroups).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsAssignableTo(typeof(IEndpointGroup)))
        .OrderBy(t => t.FullName, StringComparer.Ordinal)
        .ToList();

    /// <summary>Maps every endpoint group of the Api assembly.</summary>
    public static IEndpointRouteBuilder MapEndpointGroups(this IEndpointRouteBuilder routes)
    {
        foreach (var group in All)
        {
            routes.MapEndpointGroup(group);
        }
        return routes;
    }

    /// <summary>Maps one endpoint group given its type (the tests map each group alone to compare with the application's routes).</summary>
    public static IEndpointRouteBuilder MapEndpointGroup(this IEndpointRouteBuilder routes, Type group)
    {
        MapOne.MakeGenericMethod(group).Invoke(null, [routes]);
        return routes;
    }

    private static void Map<TGroup>(IEndpointRouteBuilder routes) where TGroup : IEndpointGroup => TGroup.Map(routes);
}
