using Lifeboat.Engine.Application;
using Lifeboat.Engine.Sources;
using Lifeboat.Engine.UseCases.Sources;
using Lifeboat.Engine.UseCases.Stacks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Sources (one POST per kind: each kind has its own fields) and stacks.</summary>
public static class SourcesApi
{
    public static RouteGroupBuilder MapSourcesApi(this RouteGroupBuilder api)
    {
        var sources = api.MapGroup("/sources").WithTags("sources");
        sources.MapGet("", async (ListSources use, CancellationToken ct) => TypedResults.Ok(new Page<SourceSummary>((await use.ExecuteAsync(new ListSourcesRequest(), ct)).Sources)))
            .WithName("ListSources").WithSummary("The configured sources").RequireAuthorization(Permissions.Read);
        sources.MapPost("/files", async (AddFilesSourceRequest request, AddFilesSource use, CancellationToken ct) => TypedResults.Created($"/api/v1/sources/{request.Name}", await use.ExecuteAsync(request, ct)))
            .WithName("AddFilesSource").WithSummary("Add a file tree (uploads)").RequireAuthorization(Permissions.Administer);
        sources.MapPost("/config", async (AddConfigSourceRequest request, AddConfigSource use, CancellationToken ct) => TypedResults.Created($"/api/v1/sources/{request.Name}", await use.ExecuteAsync(request, ct)))
            .WithName("AddConfigSource").WithSummary("Add a config set (files holding secrets; needs an encrypted repository)").RequireAuthorization(Permissions.Administer);
        sources.MapPost("/cluster", async (AddClusterSourceRequest request, AddClusterSource use, CancellationToken ct) => TypedResults.Created($"/api/v1/sources/{request.Name}", await use.ExecuteAsync(request, ct)))
            .WithName("AddClusterSource").WithSummary("Add a PostgreSQL cluster (physical backups and WAL archiving)").RequireAuthorization(Permissions.Administer);
        sources.MapPost("/database", async (AddDatabaseSourceRequest request, AddDatabaseSource use, CancellationToken ct) => TypedResults.Created($"/api/v1/sources/{request.Name}", await use.ExecuteAsync(request, ct)))
            .WithName("AddDatabaseSource").WithSummary("Add a database (logical dumps)").RequireAuthorization(Permissions.Administer);
        sources.MapDelete("/{name}", async (string name, RemoveSource use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new RemoveSourceRequest(name), ct)))
            .WithName("RemoveSource").WithSummary("Remove a source from the configuration (its backups stay until they expire)").RequireAuthorization(Permissions.Administer);

        var stacks = api.MapGroup("/stacks").WithTags("stacks");
        stacks.MapGet("", async (ListStacks use, CancellationToken ct) => TypedResults.Ok(new Page<StackSummary>((await use.ExecuteAsync(new ListStacksRequest(), ct)).Stacks)))
            .WithName("ListStacks").WithSummary("The configured stacks (sources restored together to one point)").RequireAuthorization(Permissions.Read);
        stacks.MapPost("", async (AddStackRequest request, AddStack use, CancellationToken ct) => TypedResults.Created($"/api/v1/stacks/{request.Name}", await use.ExecuteAsync(request, ct)))
            .WithName("AddStack").WithSummary("Add a stack of sources").RequireAuthorization(Permissions.Administer);
        stacks.MapDelete("/{name}", async (string name, RemoveStack use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new RemoveStackRequest(name), ct)))
            .WithName("RemoveStack").WithSummary("Remove a stack from the configuration").RequireAuthorization(Permissions.Administer);
        return api;
    }
}
