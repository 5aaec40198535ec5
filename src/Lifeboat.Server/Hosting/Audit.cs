using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// Every mutating call (POST, PUT, PATCH, DELETE) is written to the audit trail: which endpoint, on what (the route's
/// name or id), its route and query parameters (secrets redacted by <see cref="AuditTrail"/>), how it ended and with
/// which status. The actor, tenant, time and correlation id come from the call. A use case that audits itself (token
/// creation, revocation) is not written twice.
/// </summary>
public sealed class AuditFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        {
            return await next(context);
        }

        var action = http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? $"{http.Request.Method} {http.Request.Path}";
        var target = http.Request.RouteValues.TryGetValue("name", out var n) ? n?.ToString() : http.Request.RouteValues.TryGetValue("id", out var i) ? i?.ToString() : null;
        var parameters = http.Request.RouteValues.Where(r => r.Key is not ("name" or "id")).Select(r => (r.Key, Value: r.Value?.ToString()))
            .Concat(http.Request.Query.Select(q => (q.Key, Value: (string?)q.Value.ToString())))
            .GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        var audit = http.RequestServices.GetRequiredService<AuditTrail>();
        try
        {
            var result = await next(context);
            if (!audit.HasRecorded)
            {
                var status = result is IStatusCodeHttpResult { StatusCode: { } s } ? s : http.Response.StatusCode;
                await audit.RecordAsync(new AuditEntry(action, target, parameters, status < 400 ? AuditResults.Succeeded : AuditResults.Failed, status), http.RequestAborted);
            }

            return result;
        }
        catch (LifeboatException ex) when (!audit.HasRecorded)
        {
            await audit.RecordAsync(new AuditEntry(action, target, parameters, AuditResults.Failed, Problems.Status(ex.Code)), CancellationToken.None);
            throw;
        }
    }
}
