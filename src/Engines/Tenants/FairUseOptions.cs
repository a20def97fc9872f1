using System.ComponentModel.DataAnnotations;

namespace Platform.Engines.Tenants;

/// <summary>Holds the fair-use limits of tenant creation and trials (keys of section "FairUse", ADR 0520); sign-ups per client IP are Auth:SignUpsPerHourPerIp.</summary>
public sealed class FairUseOptions
{
    /// <summary>Gets or sets the plans a user may trial without an operator, comma-separated (FairUse:SelfServeTrialPlans; "starter,professional").
    /// A plan left out (enterprise by default) is trialled only through an operator's grant.</summary>
    [Required(AllowEmptyStrings = true)]
    [RegularExpression("^[a-z_]*(,[a-z_]+)*$", ErrorMessage = "a comma-separated list of plan ids")]
    public string SelfServeTrialPlans { get; set; } = "starter,professional";

    /// <summary>Gets or sets how many live tenants one user may own, unless an operator set another cap for them (FairUse:MaxOwnedTenantsPerUser; 10).</summary>
    [Range(1, 100_000)]
    public int MaxOwnedTenantsPerUser { get; set; } = 10;

    /// <summary>Gets or sets how many tenants one user may create per UTC day, counted in PostgreSQL across instances (FairUse:TenantsPerUserPerDay; 20; 0 = off).</summary>
    [Range(0, 1_000_000)]
    public int TenantsPerUserPerDay { get; set; } = 20;

    /// <summary>Gets the self-serve trial plans as a set.</summary>
    public IReadOnlySet<string> SelfServeTrialPlanSet =>
        SelfServeTrialPlans.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
}
