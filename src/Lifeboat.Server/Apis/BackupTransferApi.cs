using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Backups;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>
/// A backup as one download (a tar, or an uploaded custom-format dump as it was), and an external backup uploaded as a
/// new backup of a source. Both stream: nothing is held in memory whole. The upload route alone accepts bodies up to
/// <c>Server:MaxUploadBytes</c>.
/// </summary>
public static class BackupTransferApi
{
    public static RouteGroupBuilder MapBackupTransferApi(this RouteGroupBuilder api)
    {
        var backups = api.MapGroup("/backups").WithTags("backups");
        backups.MapGet("/{id}/download", async (string id, DownloadBackup use, HttpContext http, CancellationToken ct) =>
            {
                var download = await use.ExecuteAsync(new DownloadBackupRequest(id), ct);
                http.Response.RegisterForDisposeAsync(download);
                if (download.Length is { } length)
                {
                    http.Response.ContentLength = length;
                }

                // A damaged chunk throws once the response has started: the server aborts it (a truncated transfer).
                return TypedResults.Stream(async body => await download.WriteToAsync(body, ct), download.ContentType, download.FileName);
            })
            .WithName("DownloadBackup")
            .WithSummary("Stream a backup: a tar of its tree (a database backup's directory-format dump, or files, config, cluster trees), or an uploaded custom-format dump or SQL script as it was; every chunk verified as it is read")
            .Produces(StatusCodes.Status200OK, contentType: DownloadBackup.TarType, additionalContentTypes: [DownloadBackup.DumpType, DownloadBackup.SqlType])
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(Permissions.Operate);

        backups.MapPost("/uploads", async (string? source, string? format, HttpContext http, Workspace workspace, UploadBackup use, CancellationToken ct) =>
            {
                var max = workspace.Options.Server.MaxUploadBytes;
                if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                {
                    limit.MaxRequestBodySize = max;
                }

                if (http.Request.ContentLength > max)
                {
                    throw new BadHttpRequestException($"the upload is {ByteSize.Format(http.Request.ContentLength.Value)}, more than the server's limit of {ByteSize.Format(max)} (Server:MaxUploadBytes)", StatusCodes.Status413PayloadTooLarge);
                }

                var result = await use.ExecuteAsync(new UploadBackupRequest(source, format, http.Request.Body, http.Request.ContentLength), ct);
                return TypedResults.Created($"/api/v1/backups/{result.Id}", result);
            })
            .WithName("UploadBackup")
            .WithSummary("Upload an external backup as a new backup of `source`: a pg_dump (custom format, a directory-format dump as a tar, or a plain SQL script) for a database source, a tar for a files source; checked before it is committed, tagged uploaded=true")
            .WithDescription("The request body is the file itself, sent as it is (any Content-Type, e.g. application/octet-stream; not a form). Its format is told from its first bytes (gzip and zstd are decompressed first); `format` (custom, directory-tar, plain, tar), when given, must agree with it. Declared nowhere as an `Accepts` on purpose: that would answer 415 before authentication.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .RequireAuthorization(Permissions.Operate);
        return api;
    }
}
