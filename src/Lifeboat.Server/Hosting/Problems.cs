using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// Every failure as RFC 9457 problem details (API.md, "Errors"): the status from the Engine's <see cref="ErrorCode"/>,
/// <c>code</c> (Lifeboat's stable error code), <c>hint</c>, <c>errors</c> (field → messages, for bad input), and
/// <c>traceId</c> (the call's correlation id). Messages name request fields as <c>`field`</c>. Never a stack trace.
/// </summary>
public static partial class Problems
{
    /// <summary>The HTTP status of an error code.</summary>
    public static int Status(ErrorCode code) => code switch
    {
        ErrorCode.Usage or ErrorCode.InvalidInput or ErrorCode.WrongPassphrase => StatusCodes.Status400BadRequest,
        ErrorCode.NotFound or ErrorCode.NoSuchBackup => StatusCodes.Status404NotFound,
        ErrorCode.RepositoryLocked => StatusCodes.Status409Conflict,
        ErrorCode.Refused or ErrorCode.QuotaExceeded => StatusCodes.Status422UnprocessableEntity,
        ErrorCode.Suspended => StatusCodes.Status423Locked,
        ErrorCode.PermissionDenied => StatusCodes.Status500InternalServerError,
        ErrorCode.NoSpace => StatusCodes.Status507InsufficientStorage,
        ErrorCode.Cancelled => 499,
        ErrorCode.Maintenance => StatusCodes.Status503ServiceUnavailable,
        ErrorCode.ApprovalRequired => StatusCodes.Status202Accepted,
        ErrorCode.TargetFailed or ErrorCode.RepositoryUnavailable or ErrorCode.PostgresFailed => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The problem document of a Lifeboat error.</summary>
    public static ProblemDetails From(LifeboatException error, string correlationId)
    {
        var view = ErrorView.From(error, FieldText.AsJsonField);
        var problem = New(Status(error.Code), error.Code, view.Message, view.Hint, correlationId);
        if (view.Fields is { Count: > 0 } fields && Status(error.Code) == StatusCodes.Status400BadRequest)
        {
            problem.Extensions["errors"] = fields.ToDictionary(f => f, _ => new[] { view.Message }, StringComparer.Ordinal);
        }

        if (error is ApprovalRequiredException { Request: var approval })
        {
            // Accepted, not done: the request waits for approval; the requester sends the same call again once approved.
            problem.Extensions["approval"] = approval;
        }

        if (error is MaintenanceException { Window: var window })
        {
            problem.Extensions["maintenance"] = window;
        }

        if (view.DamagedObjects is { } damaged)
        {
            problem.Extensions["damagedObjects"] = damaged;
            problem.Extensions["affectedBackups"] = view.AffectedBackups;
        }

        return problem;
    }

    public static ProblemDetails New(int status, ErrorCode code, string detail, string? hint, string correlationId)
    {
        var problem = new ProblemDetails
        {
            Type = "urn:lifeboat:error:" + code.ToString().ToLowerInvariant(),
            Title = code.ToString(),
            Status = status,
            Detail = detail,
        };
        problem.Extensions["code"] = code.ToString();
        if (hint is not null)
        {
            problem.Extensions["hint"] = hint;
        }

        problem.Extensions["traceId"] = correlationId;
        return problem;
    }

    /// <summary>Writes a problem as the answer, from middleware (before an endpoint runs).</summary>
    public static Task WriteAsync(HttpContext http, int status, ErrorCode code, string detail, string? hint)
    {
        http.Response.StatusCode = status;
        var problem = New(status, code, detail, hint, CallScope.CorrelationId(http));
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem }).AsTask();
    }

    /// <summary>Writes a problem for any exception that reaches the pipeline's end.</summary>
    internal sealed partial class Handler(IProblemDetailsService problems, ILogger<Handler> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
        {
            var correlationId = CallScope.CorrelationId(http);
            ProblemDetails problem;
            switch (exception)
            {
                case LifeboatException lifeboat:
                    problem = From(lifeboat, correlationId);
                    break;
                case UnauthorizedAccessException denied:
                    problem = From(LifeboatException.PermissionDenied(denied), correlationId);
                    break;
                case BadHttpRequestException bad:
                    problem = New(bad.StatusCode, ErrorCode.Usage, bad.Message, "check the request's parameters and body against /openapi/v1.json", correlationId);
                    break;
                case OperationCanceledException when http.RequestAborted.IsCancellationRequested:
                    return true; // the client went away: nobody reads an answer
                default:
                    LogUnexpected(logger, exception, http.Request.Method, http.Request.Path, correlationId);
                    problem = New(StatusCodes.Status500InternalServerError, ErrorCode.Failed, "unexpected error", $"the server log has the details under trace id {correlationId}", correlationId);
                    break;
            }

            http.Response.StatusCode = problem.Status!.Value;
            if (exception is ApprovalRequiredException { Request.Id: var approvalId })
            {
                http.Response.Headers.Location = "/api/v1/approvals/" + approvalId;
            }

            if (exception is MaintenanceException { Window.Ends: { } ends })
            {
                // RFC 9110: delay-seconds until the window ends by itself (at least 1).
                var seconds = (long)Math.Ceiling((ends - http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()).TotalSeconds);
                http.Response.Headers.RetryAfter = Math.Max(1, seconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
        }

        [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Unexpected error answering {Method} {Path} (trace {TraceId})")]
        private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path, string traceId);
    }
}
