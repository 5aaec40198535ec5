using Lifeboat.Engine.Application;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// The OpenAPI 3.1 document at <c>/openapi/v1.json</c>, generated from the endpoints and their typed results (never
/// written by hand), with the bearer scheme and, per operation, the permission it needs; the interactive reference
/// (Scalar, its assets bundled in the package) at <c>/api/docs</c>.
/// </summary>
public static class OpenApiSetup
{
    public static IServiceCollection AddLifeboatOpenApi(this IServiceCollection services) => services.AddOpenApi("v1", options =>
    {
        options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Lifeboat",
                Version = "v1",
                Description = "Disaster recovery for PostgreSQL-backed applications: backups, restores, drills, schedules, targets and their health. Authenticate with `Authorization: Bearer lbt_…` (`lifeboat token create`).",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[TokenAuthentication.SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "lbt_ token",
                Description = "An API token made by `lifeboat token create`.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var policies = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct().ToList();
            if (policies.Count > 0)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(TokenAuthentication.SchemeName, context.Document)] = [] });
                operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
                operation.Extensions["x-lifeboat-permission"] = new JsonNodeExtension(System.Text.Json.Nodes.JsonValue.Create(string.Join(",", policies))!);
                operation.Description = (operation.Description is null ? "" : operation.Description + "\n\n") + $"Needs the `{string.Join("`, `", policies)}` permission ({Roles(policies)}).";
            }

            return Task.CompletedTask;
        });
    });

    public static WebApplication MapLifeboatOpenApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/api/docs", o => o.WithTitle("Lifeboat API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        return app;
    }

    private static string Roles(IReadOnlyList<string> permissions)
        => "roles: " + string.Join(", ", Lifeboat.Engine.Application.Roles.All.Where(r => permissions.All(p => Permissions.Allows(r, p))));
}
