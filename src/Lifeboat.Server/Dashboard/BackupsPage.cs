using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Sources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// Backups: the list of <c>ListCatalogBackups</c> (<c>GET /api/v1/backups</c>: the same filters and cursor), one
/// backup's detail from <c>ShowBackup</c> (<c>GET /api/v1/backups/{id}</c>), and its download through
/// <c>DownloadBackup</c> with the permission of <c>GET /api/v1/backups/{id}/download</c> (operate).
/// </summary>
internal static class BackupsPage
{
    /// <summary>The kinds a backup can be of (the API's <c>kind</c> filter).</summary>
    private static readonly string[] Kinds = ["files", "config", "cluster", "database", "stack"];

    public static RouteGroupBuilder MapBackupsPages(this RouteGroupBuilder dashboard)
    {
        dashboard.MapGet("/backups", async (string? source, string? kind, int? limit, string? cursor, HttpContext http, ListCatalogBackups list, ListSources sources, CancellationToken ct) =>
            {
                source = string.IsNullOrWhiteSpace(source) ? null : source;
                kind = string.IsNullOrWhiteSpace(kind) ? null : kind;
                var page = await list.ExecuteAsync(new ListCatalogBackupsRequest(source, kind, null, null, limit ?? 50, string.IsNullOrEmpty(cursor) ? null : cursor), ct);
                var names = (await sources.ExecuteAsync(new ListSourcesRequest(), ct)).Sources.Select(s => s.Name).ToList();
                return Layout.Render(http, Layout.Page(http, "Backups", Html.Of($"""
                    <h1>Backups</h1>
                    <form class="filters" method="get" action="/backups" role="search">
                    <div><label for="source">Source</label>{Layout.Select("source", names, source)}</div>
                    <div><label for="kind">Kind</label>{Layout.Select("kind", Kinds, kind)}</div>
                    <div><button type="submit">Filter</button></div>
                    </form>
                    {Table(page.Items)}
                    {(page.Next is null ? Html.Empty : Html.Of($"""<p><a id="next" rel="next" href="{"/backups" + Layout.Query(("source", source), ("kind", kind), ("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("cursor", page.Next))}">Next page</a></p>"""))}
                    """)));
            })
            .RequireAuthorization(DashboardAuthentication.Policy(Permissions.Read));

        dashboard.MapGet("/backups/{id}", async (string id, HttpContext http, ShowBackup show, CancellationToken ct) =>
            {
                var backup = await show.ExecuteAsync(new ShowBackupRequest(id), ct);
                return Layout.Render(http, Layout.Page(http, "Backup " + backup.Id, Detail(http, backup)));
            })
            .RequireAuthorization(DashboardAuthentication.Policy(Permissions.Read));

        dashboard.MapGet("/backups/{id}/download", async (string id, DownloadBackup use, HttpContext http, CancellationToken ct) =>
            {
                var download = await use.ExecuteAsync(new DownloadBackupRequest(id), ct);
                http.Response.RegisterForDisposeAsync(download);
                if (download.Length is { } length)
                {
                    http.Response.ContentLength = length;
                }

                return TypedResults.Stream(async body => await download.WriteToAsync(body, ct), download.ContentType, download.FileName);
            })
            .RequireAuthorization(DashboardAuthentication.Policy(Permissions.Operate));
        return dashboard;
    }

    private static Html Table(IReadOnlyList<CatalogBackupView> backups)
    {
        if (backups.Count == 0)
        {
            return Html.Of($"<p id=\"no-backups\">No backup matches.</p>");
        }

        var rows = backups.Select(b => Html.Of($"""
            <tr data-backup="{b.Id}">
            <th scope="row"><a href="{"/backups/" + Uri.EscapeDataString(b.Id)}">{b.Id}</a></th>
            <td>{b.Source}</td><td>{b.Kind}</td><td>{b.Type}</td><td>{Layout.Time(b.Finished)}</td>
            <td>{ByteSize.Format(b.Bytes)}</td><td>{ByteSize.Format(b.StoredBytes)}</td><td>{b.Files}</td>
            <td>{(b.Damaged ? Html.Of($"<strong>damaged</strong>") : Html.Of($"ok"))}</td>
            </tr>
            """));
        return Html.Of($"""
            <div class="scroll"><table id="backups">
            <thead><tr><th scope="col">Backup</th><th scope="col">Source</th><th scope="col">Kind</th><th scope="col">Type</th><th scope="col">Finished</th><th scope="col">Size</th><th scope="col">Stored</th><th scope="col">Files</th><th scope="col">Integrity</th></tr></thead>
            <tbody>{rows}</tbody>
            </table></div>
            """);
    }

    private static Html Detail(HttpContext http, ShowBackupResult b)
    {
        var s = b.Stats;
        var paths = b.Paths is { Count: > 0 } p ? Html.Of($"<ul id=\"paths\">{p.Select(x => Html.Of($"<li>{x}</li>"))}</ul>") : Html.Of($"none");
        var tags = b.Tags is { Count: > 0 } t ? Html.Of($"<ul id=\"tags\">{t.Select(x => Html.Of($"<li>{x.Key}={x.Value}</li>"))}</ul>") : Html.Of($"none");
        var download = Layout.May(http, Permissions.Operate)
            ? Html.Of($"""<p><a id="download" href="{"/backups/" + Uri.EscapeDataString(b.Id) + "/download"}" download>Download</a> <span class="muted">(every chunk is verified as it is read)</span></p>""")
            : Html.Of($"""<p class="muted">Downloading needs the operate permission (operator or admin).</p>""");
        return Html.Of($"""
            <h1>Backup {b.Id}</h1>
            {download}
            <dl id="backup">
            <dt>Source</dt><dd>{b.Source}</dd>
            <dt>Kind</dt><dd>{b.Kind} ({b.Type})</dd>
            <dt>Parent</dt><dd>{b.Parent ?? "none"}</dd>
            <dt>Started</dt><dd>{Layout.Time(b.Started)}</dd>
            <dt>Finished</dt><dd>{Layout.Time(b.Finished)} ({Layout.Duration(b.DurationSeconds)})</dd>
            <dt>Host</dt><dd>{b.Host ?? "unknown"}</dd>
            <dt>Paths</dt><dd>{paths}</dd>
            <dt>Contents</dt><dd>{s.Files} files, {s.Dirs} directories, {ByteSize.Format(s.Bytes)}; stored as {ByteSize.Format(s.StoredBytes)} in {s.Chunks} chunks ({s.NewChunks} new)</dd>
            <dt>Tags</dt><dd>{tags}</dd>
            {Dump(b)}
            {Cluster(b)}
            </dl>
            <p><a href="/backups">All backups</a></p>
            """);
    }

    private static Html Dump(ShowBackupResult b)
    {
        if (b.Dump is not { } d)
        {
            return Html.Empty;
        }

        var contents = d.Contents is { } c
            ? Html.Of($"{c.Tables.Count} tables, {c.Views.Count} views, {c.Schemas.Count} schemas; tables: {string.Join(", ", c.Tables.Take(20))}{(c.Tables.Count > 20 ? "…" : "")}")
            : Html.Of($"not recorded");
        return Html.Of($"""
            <dt>Database</dt><dd>{d.Database} (PostgreSQL {d.ServerVersion}, {ByteSize.Format(d.DatabaseSize)}, {d.Encoding}){(d.SchemaOnly ? Html.Of($", schema only") : Html.Empty)}</dd>
            <dt>Dump</dt><dd>{contents}</dd>
            """);
    }

    private static Html Cluster(ShowBackupResult b) => b.Cluster is not { } c ? Html.Empty : Html.Of($"""
        <dt>Cluster</dt><dd>PostgreSQL {c.ServerVersionText}, system {c.SystemIdentifier}, timeline {c.Timeline}</dd>
        <dt>WAL</dt><dd>from {c.StartLsn} to {c.StopLsn}</dd>
        """);
}
