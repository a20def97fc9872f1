using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Auth;
using Platform.Api.Errors;
using Platform.Api.Hosting;
using Platform.Api.Tenants;
using Platform.Engines;
using Platform.Engines.Operators;
using Platform.Models;
using Platform.Models.Errors;
using Platform.Models.Operators;

namespace Platform.Api.Operators;

/// <summary>Maps the operator console under /v1/admin: operator login, tenant search and detail, founder actions (suspension, API key
/// freezing, quota overrides) with their list and reversal, operator management (super_admin only) and every operator's own TOTP enrolment.</summary>
public sealed class OperatorsApi : IEndpointGroup
{
    private const string TenantNotFound = "`not_found`: no tenant has this id.";
    private const string KeyNotFound = "`not_found`: no API key has this id.";
    private const string OperatorNotFound = "`not_found`: no operator has this id.";
    private const string SuperAdminOnly = "`forbidden`: only an active super_admin (signed in with TOTP) manages operators.";
    private const string ReasonInvalid = "`validation_failed`: reason_code is missing or not a lower_snake_case code, or a field is not valid (`errors` names it); or text PostgreSQL cannot store.";

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/admin/auth/login", LogInAsync).WithTags("Operators").AllowAnonymous()
            .WithName("logInOperator")
            .WithSummary("Sign an operator in with email, password and TOTP code")
            .WithDescription("Returns an operator token for /v1/admin (user tokens and API keys are never accepted there). Failed attempts lock the account for a while.")
            .RefusesBody()
            .Refuses(StatusCodes.Status401Unauthorized, "`unauthorized`: the email, password or TOTP code is not correct, a TOTP code is required, or the code was used already.")
            .Refuses(StatusCodes.Status429TooManyRequests, "`rate_limited`: too many failed attempts; the account is locked until Retry-After.");

        var admin = routes.MapOperatorGroup("/v1/admin", "Operators");
        admin.MapGet("/tenants", SearchTenantsAsync)
            .WithName("searchTenants")
            .WithSummary("Search tenants by name, slug, status or plan")
            .WithDescription("Any operator (viewer or higher).");
        admin.MapGet("/tenants/{tenant_id:guid}", GetTenantAsync)
            .WithName("getAdminTenant")
            .WithSummary("Get a tenant with its member, open ticket and founder action counts")
            .WithDescription("Any operator (viewer or higher).")
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound);
        admin.MapPost("/tenants/{tenant_id:guid}/suspend", (Guid tenant_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
                PerformAsync(FounderActionTypes.SuspendTenant, tenant_id, body, http, mediator, ct))
            .WithName("suspendTenant")
            .WithSummary("Suspend a tenant (writes refused, reads kept), as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code.")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`conflict`: a deleted tenant cannot be suspended.");
        admin.MapPost("/tenants/{tenant_id:guid}/unsuspend", (Guid tenant_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
                PerformAsync(FounderActionTypes.UnsuspendTenant, tenant_id, body, http, mediator, ct))
            .WithName("unsuspendTenant")
            .WithSummary("Lift a tenant's suspension, as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code.")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`conflict`: the tenant is not suspended.");
        admin.MapPost("/api-keys/{key_id:guid}/freeze", (Guid key_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
                PerformAsync(FounderActionTypes.FreezeApiKey, key_id, body, http, mediator, ct))
            .WithName("freezeApiKey")
            .WithSummary("Freeze an API key (it authenticates nothing until unfrozen), as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code.")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, KeyNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`already_frozen`: the key is frozen already.");
        admin.MapPost("/api-keys/{key_id:guid}/unfreeze", (Guid key_id, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
                PerformAsync(FounderActionTypes.UnfreezeApiKey, key_id, body, http, mediator, ct))
            .WithName("unfreezeApiKey")
            .WithSummary("Unfreeze an API key, as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code.")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, KeyNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`not_frozen`: the key is not frozen.");
        admin.MapPut("/tenants/{tenant_id:guid}/quotas/{quota}", SetQuotaOverrideAsync)
            .WithName("setQuotaOverride")
            .WithSummary("Override one of a tenant's quotas (-1 for unlimited), as a reversible founder action")
            .WithDescription("Needs the billing operator role or higher and a reason code.")
            .RefusesBody("`validation_failed`: value is missing or out of range, the quota is unknown, or reason_code is missing or not valid (`errors` names it); or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound);
        admin.MapDelete("/tenants/{tenant_id:guid}/quotas/{quota}", ClearQuotaOverrideAsync)
            .WithName("clearQuotaOverride")
            .WithSummary("Remove a tenant's quota override (back to the plan's quota), as a reversible founder action")
            .WithDescription("Needs the billing operator role or higher and a reason code (in the optional body).")
            .RefusesBody(ReasonInvalid + " Also when the quota is unknown.")
            .Refuses(StatusCodes.Status404NotFound, TenantNotFound + " Also when the tenant has no override of this quota.");
        admin.MapGet("/users/capped", ListCappedUsersAsync)
            .WithName("listCappedUsers")
            .WithSummary("List the users who met a fair-use limit (owned tenants, tenants per day, trials)")
            .WithDescription("Any operator (viewer or higher). One row per user, in user id order, from the refusals recorded when their requests were refused; `rule` keeps the users who met that one.")
            .Refuses(StatusCodes.Status422UnprocessableEntity, "`validation_failed`: the rule, limit or cursor is not valid.");
        admin.MapPut("/users/{user_id:guid}/tenant-cap", SetUserTenantCapAsync)
            .WithName("setUserTenantCap")
            .WithSummary("Set how many live tenants one user may own, as a reversible founder action")
            .WithDescription("Needs the support operator role or higher and a reason code. Overrides FairUse:MaxOwnedTenantsPerUser for this user; reversing the action restores the cap it replaced.")
            .RefusesBody("`validation_failed`: value is missing or out of range (0-100000), or reason_code is missing or not valid (`errors` names it); or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no user has this id.");
        admin.MapPost("/users/{user_id:guid}/trials", GrantTrialAsync)
            .WithName("grantTrial")
            .WithSummary("Grant a user one trial of a plan, as a reversible founder action")
            .WithDescription("Needs the billing operator role or higher and a reason code. The user's next tenant of this plan starts in trial, even for a plan not open to self-serve trials or after the user's own trial. Reversing it revokes the grant while unused.")
            .RefusesBody("`validation_failed`: plan is missing or not a paid plan, or reason_code is missing or not valid (`errors` names it); or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no user has this id.");
        admin.MapGet("/actions", ListActionsAsync)
            .WithName("listFounderActions")
            .WithSummary("List founder actions, newest first, by tenant or action type")
            .WithDescription("Any operator (viewer or higher).");
        admin.MapGet("/actions/{id:guid}", GetActionAsync)
            .WithName("getFounderAction")
            .WithSummary("Get a founder action")
            .WithDescription("Any operator (viewer or higher).")
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no founder action has this id.");
        admin.MapPost("/actions/{id:guid}/reverse", ReverseAsync)
            .WithName("reverseFounderAction")
            .WithSummary("Reverse a founder action with a new action that undoes it")
            .WithDescription("Needs the super_admin operator role. The body (a reason) is optional; the reason code defaults to reversal.")
            .RefusesBody(ReasonInvalid)
            .Refuses(StatusCodes.Status404NotFound, "`not_found`: no founder action has this id.")
            .Refuses(StatusCodes.Status409Conflict, "`action_already_reversed`: it was reversed before; `action_irreversible`: this kind of action cannot be reversed; `trial_grant_used`: the granted trial is in use already.");

        admin.MapGet("/operators", ListOperatorsAsync)
            .WithName("listOperators")
            .WithSummary("List the operators")
            .WithDescription("Needs the super_admin operator role.")
            .Refuses(StatusCodes.Status403Forbidden, SuperAdminOnly);
        admin.MapPost("/operators", CreateOperatorAsync)
            .WithName("createOperator")
            .WithSummary("Create an operator; its TOTP secret is shown this once")
            .WithDescription("Needs the super_admin operator role. TOTP is mandatory for a super_admin and on by default for them.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SuperAdminOnly)
            .Refuses(StatusCodes.Status409Conflict, "`email_taken`: an operator with this email exists.");
        admin.MapGet("/operators/{id:guid}", GetOperatorAsync)
            .WithName("getOperator")
            .WithSummary("Get an operator")
            .WithDescription("Needs the super_admin operator role.")
            .Refuses(StatusCodes.Status403Forbidden, SuperAdminOnly)
            .Refuses(StatusCodes.Status404NotFound, OperatorNotFound);
        admin.MapPatch("/operators/{id:guid}", ChangeOperatorRoleAsync)
            .WithName("changeOperatorRole")
            .WithSummary("Change an operator's role")
            .WithDescription("Needs the super_admin operator role; the last active super_admin cannot be demoted.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SuperAdminOnly)
            .Refuses(StatusCodes.Status404NotFound, OperatorNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`last_super_admin`: the last active super_admin cannot be demoted.");
        admin.MapPost("/operators/{id:guid}/disable", (Guid id, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
                ChangeOperatorAsync(id, OperatorChange.Disable, body, http, mediator, ct))
            .WithName("disableOperator")
            .WithSummary("Disable an operator (their tokens stop working at once)")
            .WithDescription("Needs the super_admin operator role; the last active super_admin cannot be disabled. The body (a reason) is optional.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SuperAdminOnly)
            .Refuses(StatusCodes.Status404NotFound, OperatorNotFound)
            .Refuses(StatusCodes.Status409Conflict, "`last_super_admin`: the last active super_admin cannot be disabled.");
        admin.MapPost("/operators/{id:guid}/enable", (Guid id, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
                ChangeOperatorAsync(id, OperatorChange.Enable, body, http, mediator, ct))
            .WithName("enableOperator")
            .WithSummary("Enable a disabled operator")
            .WithDescription("Needs the super_admin operator role. The body (a reason) is optional.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SuperAdminOnly)
            .Refuses(StatusCodes.Status404NotFound, OperatorNotFound);
        admin.MapPost("/operators/{id:guid}/totp/reset", (Guid id, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
                ChangeOperatorAsync(id, OperatorChange.ResetTotp, body, http, mediator, ct))
            .WithName("resetOperatorTotp")
            .WithSummary("Reset an operator's TOTP, so that they enrol again at their next sign-in")
            .WithDescription("Needs the super_admin operator role. The body (a reason) is optional.")
            .RefusesBody()
            .Refuses(StatusCodes.Status403Forbidden, SuperAdminOnly)
            .Refuses(StatusCodes.Status404NotFound, OperatorNotFound);
        admin.MapPost("/me/password", ChangePasswordAsync)
            .WithName("changeOperatorPassword")
            .WithSummary("Change the signed-in operator's password")
            .WithDescription("Any operator; checks the current password (wrong ones are limited per operator and minute) and records a founder action. Operator tokens are short-lived and not bound to sessions: tokens already issued stay valid until they expire.")
            .RefusesBody("`validation_failed`: a field is missing or not valid (the new password needs 12 characters), or the current password is not correct.")
            .Refuses(StatusCodes.Status429TooManyRequests, "`rate_limited`: too many wrong current passwords in the minute, or password hashing is saturated (Retry-After says when to retry).");
        admin.MapPost("/auth/totp/enroll", EnrollAsync).WithMetadata(TotpEnrolmentRoute.Instance)
            .WithName("startTotpEnrolment")
            .WithSummary("Start the signed-in operator's TOTP enrolment; the secret is shown this once")
            .WithDescription("Any operator, also one that must enrol before doing anything else.")
            .Refuses(StatusCodes.Status409Conflict, "`conflict`: TOTP is already enabled.");
        admin.MapPost("/auth/totp/confirm", ConfirmAsync).WithMetadata(TotpEnrolmentRoute.Instance)
            .WithName("confirmTotpEnrolment")
            .WithSummary("Confirm the TOTP enrolment with a code from the authenticator")
            .WithDescription("Any operator with a pending enrolment.")
            .RefusesBody("`validation_failed`: the code is missing or not correct (`errors` names it); or text PostgreSQL cannot store.")
            .Refuses(StatusCodes.Status409Conflict, "`conflict`: there is no pending enrolment, TOTP is already enabled, or the pending enrolment changed meanwhile.");
    }

    private static async Task<Ok<OperatorLogInResponse>> LogInAsync(OperatorLogInRequest body, HttpContext http, IMediator mediator, TokenIssuer tokens, CancellationToken ct)
    {
        var login = await mediator.Send(new LogInOperator(body.Email ?? "", body.Password ?? "", body.TotpCode, CallerExtensions.Origin(http).Ip), ct);
        var o = login.Operator;
        var token = tokens.IssueOperatorToken(o.Id, o.Email, o.Role.ToWire(), login.MfaVerified);
        return TypedResults.Ok(new OperatorLogInResponse(token, "Bearer", tokens.OperatorLifetimeSeconds, login.MfaVerified, OperatorResponse.From(o)));
    }

    private static async Task<Ok<ListResponse<TenantResponse>>> SearchTenantsAsync(
        HttpContext http, IMediator mediator, string? q, string? status, string? plan, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new SearchTenants(http.ToOperatorCaller(), q, status, plan, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<TenantResponse>.From(page, t => TenantResponse.From(t, null)));
    }

    private static async Task<Ok<AdminTenantResponse>> GetTenantAsync(Guid tenant_id, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var detail = await mediator.Send(new GetAdminTenant(http.ToOperatorCaller(), tenant_id), ct);
        return TypedResults.Ok(AdminTenantResponse.From(detail));
    }

    private static async Task<Created<FounderActionResponse>> PerformAsync(
        string actionType, Guid targetId, FounderReasonRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), actionType, targetId.ToString(), body.ReasonCode ?? "", body.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Created<FounderActionResponse>> SetQuotaOverrideAsync(
        Guid tenant_id, string quota, QuotaOverrideActionRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var value = body.Value ?? throw ValidationFailedException.For("value", "The value is required (-1 for unlimited).");
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.SetQuotaOverride,
            $"{tenant_id}/{quota}", body.ReasonCode ?? "", body.ReasonNote, value), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Created<FounderActionResponse>> ClearQuotaOverrideAsync(
        Guid tenant_id, string quota, [FromBody] FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.ClearQuotaOverride,
            $"{tenant_id}/{quota}", body?.ReasonCode ?? "", body?.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Ok<ListResponse<CappedUserResponse>>> ListCappedUsersAsync(
        HttpContext http, IMediator mediator, string? rule, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListCappedUsers(http.ToOperatorCaller(), rule, cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<CappedUserResponse>.From(page, CappedUserResponse.From));
    }

    private static async Task<Created<FounderActionResponse>> SetUserTenantCapAsync(
        Guid user_id, UserTenantCapRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var value = body.Value is >= 0 and <= 100_000 ? body.Value.Value : throw ValidationFailedException.For("value", "The value is required: 0 to 100000 tenants.");
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.SetUserTenantCap,
            user_id.ToString(), body.ReasonCode ?? "", body.ReasonNote, value), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Created<FounderActionResponse>> GrantTrialAsync(
        Guid user_id, GrantTrialRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var plan = body.Plan ?? throw ValidationFailedException.For("plan", "The plan is required.");
        var action = await mediator.Send(new PerformFounderAction(http.ToOperatorCaller(), FounderActionTypes.GrantTrial,
            user_id.ToString(), body.ReasonCode ?? "", body.ReasonNote, plan), ct);
        return TypedResults.Created($"/v1/admin/actions/{action.Id}", FounderActionResponse.From(action));
    }

    private static async Task<Ok<ListResponse<FounderActionResponse>>> ListActionsAsync(
        HttpContext http, IMediator mediator, Guid? tenant_id, string? action_type, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListFounderActions(http.ToOperatorCaller(), new FounderActionFilter(tenant_id, action_type), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<FounderActionResponse>.From(page, FounderActionResponse.From));
    }

    private static async Task<Ok<FounderActionResponse>> GetActionAsync(Guid id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(FounderActionResponse.From(await mediator.Send(new GetFounderAction(http.ToOperatorCaller(), id), ct)));

    private static async Task<Created<FounderActionResponse>> ReverseAsync(
        Guid id, FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var reversal = await mediator.Send(new ReverseFounderAction(http.ToOperatorCaller(), id, body?.ReasonCode ?? "reversal", body?.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/actions/{reversal.Id}", FounderActionResponse.From(reversal));
    }

    private static async Task<Ok<ListResponse<OperatorResponse>>> ListOperatorsAsync(HttpContext http, IMediator mediator, string? cursor, int? limit, CancellationToken ct)
    {
        var page = await mediator.Send(new ListOperators(http.ToOperatorCaller(), cursor, limit ?? Paging.DefaultLimit), ct);
        return TypedResults.Ok(ListResponse<OperatorResponse>.From(page, OperatorResponse.From));
    }

    private static async Task<Created<CreatedOperatorResponse>> CreateOperatorAsync(CreateOperatorRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var role = body.Role ?? throw ValidationFailedException.For("role", "The role is required.");
        var created = await mediator.Send(new AddOperator(http.ToOperatorCaller(), body.Email ?? "", body.Name ?? "", role, body.Password ?? "",
            body.EnableTotp ?? role == "super_admin", body.ReasonCode, body.ReasonNote), ct);
        return TypedResults.Created($"/v1/admin/operators/{created.Operator.Id}", CreatedOperatorResponse.From(created));
    }

    private static async Task<Ok<OperatorResponse>> GetOperatorAsync(Guid id, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(OperatorResponse.From(await mediator.Send(new GetOperator(http.ToOperatorCaller(), id), ct)));

    private static async Task<Ok<OperatorResponse>> ChangeOperatorRoleAsync(Guid id, ChangeOperatorRoleRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        var role = body.Role ?? throw ValidationFailedException.For("role", "The role is required.");
        return TypedResults.Ok(OperatorResponse.From(await mediator.Send(
            new ChangeOperator(http.ToOperatorCaller(), id, OperatorChange.Role, role, body.ReasonCode, body.ReasonNote), ct)));
    }

    private static async Task<Ok<OperatorResponse>> ChangeOperatorAsync(
        Guid id, OperatorChange change, FounderReasonRequest? body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(OperatorResponse.From(await mediator.Send(
            new ChangeOperator(http.ToOperatorCaller(), id, change, null, body?.ReasonCode, body?.ReasonNote), ct)));

    private static async Task<NoContent> ChangePasswordAsync(OperatorPasswordRequest body, HttpContext http, IMediator mediator, CancellationToken ct)
    {
        await mediator.Send(new ChangeOperatorPassword(http.ToOperatorCaller(), body.CurrentPassword ?? "", body.NewPassword ?? ""), ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<TotpEnrolmentResponse>> EnrollAsync(HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(TotpEnrolmentResponse.From(await mediator.Send(new StartTotpEnrolment(http.ToOperatorCaller()), ct)));

    private static async Task<Ok<OperatorResponse>> ConfirmAsync(ConfirmTotpRequest body, HttpContext http, IMediator mediator, CancellationToken ct) =>
        TypedResults.Ok(OperatorResponse.From(await mediator.Send(new ConfirmTotpEnrolment(http.ToOperatorCaller(), body.Code ?? ""), ct)));
}
