using System.Net;
using System.Net.Http.Json;

namespace Platform.Tests.Operators;

public sealed class OperatorPasswordTests : DatabaseTest
{
    [Test]
    public async Task An_operator_changes_their_own_password_after_proving_the_current_one()
    {
        var (op, client) = await OperatorTestSupport.SignedInAsync("viewer", totp: false);
        const string next = "a new operator passphrase";

        using var wrong = await client.PostAsJsonAsync("/v1/admin/me/password", new { current_password = "not the password", new_password = next });
        await TestApi.ExpectProblemAsync(wrong, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var weak = await client.PostAsJsonAsync("/v1/admin/me/password", new { current_password = OperatorTestSupport.Password, new_password = "short" });
        await TestApi.ExpectProblemAsync(weak, HttpStatusCode.UnprocessableEntity, "validation_failed");
        using var user = await TestApi.Client((await TestApi.SignUpAsync()).Token)
            .PostAsJsonAsync("/v1/admin/me/password", new { current_password = "x", new_password = next });
        await TestApi.ExpectProblemAsync(user, HttpStatusCode.Unauthorized, "unauthorized");

        using var changed = await client.PostAsJsonAsync("/v1/admin/me/password", new { current_password = OperatorTestSupport.Password, new_password = next });
        await TestApi.ExpectAsync(changed, HttpStatusCode.NoContent);
        using var old = await OperatorTestSupport.LogInAsync(op.Email, OperatorTestSupport.Password, null);
        await TestApi.ExpectProblemAsync(old, HttpStatusCode.Unauthorized, "unauthorized");
        using var fresh = await OperatorTestSupport.LogInAsync(op.Email, next, null);
        await TestApi.ExpectAsync(fresh, HttpStatusCode.OK);
    }
}
