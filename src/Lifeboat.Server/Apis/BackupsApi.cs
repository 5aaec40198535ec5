using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Backups;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Backups: the catalog's list (filters, cursor paging), one backup's detail, forgetting one.</summary>
public static class BackupsApi
{
    public static RouteGroupBuilder MapBackupsApi(this RouteGroupBuilder api)
    {
        var backups = api.MapGroup("/backups").WithTags("backups");
        backups.MapGet("", async (string? source, string? kind, string? since, string? until, int? limit, string? cursor, ListCatalogBackups use, CancellationToken ct)
                => TypedResults.Ok(await use.ExecuteAsync(new ListCatalogBackupsRequest(source, kind, since, until, limit ?? 100, cursor), ct)))
            .WithName("ListBackups").WithSummary("Backups, newest first: filter by source, kind and finish time; page with `limit` and `cursor`").RequireAuthorization(Permissions.Read);
        backups.MapGet("/{id}", async (string id, ShowBackup use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ShowBackupRequest(id), ct)))
            .WithName("GetBackup").WithSummary("One backup from its manifest: sizes, times, paths, and per kind the cluster's WAL positions or the dump's contents").RequireAuthorization(Permissions.Read);
        backups.MapDelete("/{id}", async (string id, bool? prune, ForgetBackups use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ForgetBackupsRequest([id], prune ?? false), ct)))
            .WithName("ForgetBackup").WithSummary("Forget a backup (a pinned one is refused); `prune=true` frees its space").RequireAuthorization(Permissions.Administer);
        return api;
    }
}
