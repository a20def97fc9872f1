namespace Platform.Tests.Testing;

/// <summary>Builds a tenant for a test: created over the API by its owner, then given the plan limits or status the test needs, through parameters.</summary>
/// <remarks>
/// The limits and the status are columns of tenants that no endpoint sets directly (plan changes and suspension have their own
/// commands and rules), so the builder writes them as the schema owner inside the tenant's scope, as the tests always did.
/// <code>var tenantId = await TestTenant.New(owner).WithPlan("free").WithLimits(concurrentRuns: -1, runsPerDay: -1).CreateAsync();</code>
/// </remarks>
public sealed class TestTenant
{
    private readonly TestUser? owner;
    private readonly Guid? existing;
    private readonly List<(string Column, object Value)> columns = [];
    private string? plan;
    private string? slug;

    private TestTenant(TestUser? owner, Guid? existing)
    {
        this.owner = owner;
        this.existing = existing;
    }

    /// <summary>Starts a new tenant that the user creates (and so owns) over the API.</summary>
    public static TestTenant New(TestUser owner) => new(owner, null);

    /// <summary>Starts changes to a tenant that already exists.</summary>
    public static TestTenant Existing(Guid tenantId) => new(null, tenantId);

    /// <summary>Creates the tenant on this plan (the API's default plan otherwise).</summary>
    public TestTenant WithPlan(string value)
    {
        plan = value;
        return this;
    }

    /// <summary>Creates the tenant with this slug (a random one otherwise).</summary>
    public TestTenant WithSlug(string value)
    {
        slug = value;
        return this;
    }

    /// <summary>Sets the run limits that are given (-1 is unlimited); the others keep the plan's values.</summary>
    public TestTenant WithLimits(int? concurrentRuns = null, int? runsPerDay = null, long? tokensPerMonth = null)
    {
        if (concurrentRuns is { } c)
        {
            columns.Add(("max_concurrent_runs", c));
        }
        if (runsPerDay is { } d)
        {
            columns.Add(("max_runs_per_day", d));
        }
        if (tokensPerMonth is { } t)
        {
            columns.Add(("max_tokens_per_month", t));
        }
        return this;
    }

    /// <summary>Sets the tenant's status (trial, active, past_due, suspended, ...) without the command that would normally move it.</summary>
    public TestTenant WithStatus(string status)
    {
        columns.Add(("status", status));
        return this;
    }

    /// <summary>Creates the tenant over the API, applies the settings, and returns its id.</summary>
    public async Task<Guid> CreateAsync()
    {
        if (owner is null)
        {
            throw new InvalidOperationException("TestTenant.Existing changes a tenant: call ApplyAsync.");
        }
        var tenantId = await TestApi.CreateTenantAsync(owner, slug, plan);
        await ApplyAsync(tenantId);
        return tenantId;
    }

    /// <summary>Applies the settings to the existing tenant.</summary>
    public Task ApplyAsync() =>
        ApplyAsync(existing ?? throw new InvalidOperationException("TestTenant.New creates a tenant: call CreateAsync."));

    private async Task ApplyAsync(Guid tenantId)
    {
        if (columns.Count == 0)
        {
            return;
        }
        // Column names come from this class's own constants; every value is a parameter.
        var assignments = string.Join(", ", columns.Select((c, i) => $"{c.Column} = @v{i}"));
        var parameters = columns.Select((c, i) => ($"v{i}", c.Value)).Append(("t", (object)tenantId)).ToArray();
        await using var scope = await TenantScope.OwnerAsync(tenantId);
        await scope.ExecuteAsync($"UPDATE tenants SET {assignments} WHERE id = @t", parameters);
        await scope.CommitAsync();
    }
}
