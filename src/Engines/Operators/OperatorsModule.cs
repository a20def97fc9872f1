using Microsoft.Extensions.DependencyInjection;
using Platform.Engines.Hosting;

namespace Platform.Engines.Operators;

/// <summary>Registers operators and founder actions: TOTP secrets, the founder action log, the operators' ticket scopes and every founder action type.</summary>
internal sealed class OperatorsModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddSingleton<TotpSecrets>();
        services.AddSingleton<FounderActionLog>();
        services.AddSingleton<OperatorTicketScopes>();
        services.Scan(scan => scan
            .FromAssemblyOf<OperatorsModule>()
            .AddClasses(c => c.AssignableTo<IFounderActionType>(), publicOnly: false)
            .As<IFounderActionType>()
            .WithSingletonLifetime());
    }
}
