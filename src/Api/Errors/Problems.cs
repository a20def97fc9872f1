using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace Platform.Api.Errors;

/// <summary>Builds RFC 9457 problem details with stable codes; the OpenAPI document (/openapi/v1.json) lists which each route answers.</summary>
public static class Problems
{
    public static string TypeFor(string code) => $"https://platform.dev/problems/{code.Replace('_', '-')}";

    public static ProblemDetails Create(int status, string code, string title, string? detail = null)
    {
        var problem = new ProblemDetails { Status = status, Type = TypeFor(code), Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        return problem;
    }

    /// <summary>Names the default code for a bare status code (unknown route, wrong verb, and so on).</summary>
    public static string CodeForStatus(int status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        402 => "payment_required",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        410 => "gone",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "rate_limited",
        _ => status >= 500 ? "internal_error" : "error_" + status.ToString(CultureInfo.InvariantCulture),
    };
}
