using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Sources;
using Lifeboat.Engine.UseCases.Stacks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// The overview: one row per stack and per source with the state of <c>GetStatus</c> — the use case behind
/// <c>lifeboat status</c> and <c>GET /api/v1/status</c>, with the API's cache age — so the colours match both. The RPO
/// and RTO columns come from <c>GetObjectives</c> (<c>GET /api/v1/objectives</c>). The table refreshes itself every
/// 15 s from <c>/fragments/overview</c>, which answers the same section alone.
/// </summary>
internal static class OverviewPage
{
    public static RouteGroupBuilder MapOverview(this RouteGroupBuilder dashboard)
    {
        var policy = DashboardAuthentication.Policy(Permissions.Read);
        dashboard.MapGet("/", async (HttpContext http, CancellationToken ct) =>
            {
                var section = await SectionAsync(http, ct);
                return Layout.Render(http, Layout.Page(http, "Overview", Html.Of($"<h1>Overview</h1>{section}")));
            })
            .RequireAuthorization(policy);
        dashboard.MapGet("/fragments/overview", async (HttpContext http, CancellationToken ct) => Layout.Render(http, await SectionAsync(http, ct)))
            .RequireAuthorization(policy);
        return dashboard;
    }

    private static async Task<Html> SectionAsync(HttpContext http, CancellationToken ct)
    {
        var services = http.RequestServices;
        var call = services.GetRequiredService<CallContext>();
        var report = await services.GetRequiredService<GetStatus>().ExecuteAsync(new GetStatusRequest(null, TimeSpan.FromSeconds(call.Workspace.Options.Server.StatusCacheSeconds)), ct);
        var objectives = (await services.GetRequiredService<GetObjectives>().ExecuteAsync(new GetObjectivesRequest(), ct)).Sources.ToDictionary(o => o.Source, StringComparer.Ordinal);
        var sources = (await services.GetRequiredService<ListSources>().ExecuteAsync(new ListSourcesRequest(), ct)).Sources;
        var stacks = (await services.GetRequiredService<ListStacks>().ExecuteAsync(new ListStacksRequest(), ct)).Stacks;
        var drills = report.Drills.ToDictionary(d => d.Source, StringComparer.Ordinal);
        var repository = report.Checks.Where(c => c.Source.Length == 0).ToList();

        var stackRows = stacks.Select(s => Html.Of($"""
            <tr data-stack="{s.Name}">
            <th scope="row">{s.Name}</th>
            <td class="state-cell">{Layout.State(report.StateOf(s.Sources.Select(m => m.Name)))}</td>
            <td>{string.Join(", ", s.Sources.Select(m => m.Name))}</td>
            </tr>
            """));
        var sourceRows = sources.Select(s => SourceRow(s.Name, s.Kind, report, objectives.GetValueOrDefault(s.Name), drills.GetValueOrDefault(s.Name)));
        var repositoryRows = repository.Select(c => Html.Of($"""<li>{Layout.State(c.State)} {c.Name}: {c.Detail}</li>"""));
        return Html.Of($"""
            <section id="overview" hx-get="/fragments/overview" hx-trigger="every 15s" hx-swap="outerHTML" aria-live="polite">
            <p>Overall: <span id="overall">{Layout.State(report.Overall)}</span> <span class="muted">as of {Layout.Time(report.At)}</span></p>
            {(stacks.Count == 0 ? Html.Empty : Html.Of($"""
                <h2>Stacks</h2>
                <div class="scroll"><table id="stacks">
                <thead><tr><th scope="col">Stack</th><th scope="col">State</th><th scope="col">Sources</th></tr></thead>
                <tbody>{stackRows}</tbody>
                </table></div>
                """))}
            <h2>Sources</h2>
            {(sources.Count == 0 ? Html.Of($"<p>No source is configured yet: <code>lifeboat source add</code> adds one.</p>") : Html.Of($"""
                <div class="scroll"><table id="sources">
                <thead><tr><th scope="col">Source</th><th scope="col">State</th><th scope="col">Last backup</th><th scope="col">RPO now / objective</th><th scope="col">Last drill, RTO / objective</th><th scope="col">WAL archiving</th><th scope="col">Findings</th></tr></thead>
                <tbody>{sourceRows}</tbody>
                </table></div>
                """))}
            <h2>Repository</h2>
            <ul class="findings" id="repository">{repositoryRows}</ul>
            </section>
            """);
    }

    private static Html SourceRow(string name, string kind, HealthReport report, SourceObjectives? objectives, DrillStatus? drill)
    {
        var own = report.Checks.Where(c => c.Source == name).ToList();
        var lastBackup = own.FirstOrDefault(c => c.Name == "last backup");
        var wal = own.FirstOrDefault(c => c.Name == "WAL archiving");
        var findings = own.Where(c => c.State != HealthState.Healthy).Select(c => Html.Of($"<li>{Layout.State(c.State)} {c.Name}: {c.Detail}</li>")).ToList();
        return Html.Of($"""
            <tr data-source="{name}">
            <th scope="row">{name} <span class="muted">({kind})</span></th>
            <td class="state-cell">{Layout.State(report.StateOf(name))}</td>
            <td class="last-backup">{(lastBackup is null ? Html.Of($"<span class=\"muted\">unknown</span>") : Html.Of($"{Layout.State(lastBackup.State)} {lastBackup.Detail}"))}</td>
            <td class="rpo">{Rpo(objectives)}</td>
            <td class="rto">{Rto(drill)}</td>
            <td class="wal">{(wal is null ? Html.Of($"<span class=\"muted\">not a cluster</span>") : Html.Of($"{Layout.State(wal.State)} {wal.Detail}"))}</td>
            <td>{(findings.Count == 0 ? Html.Of($"<span class=\"muted\">none</span>") : Html.Of($"<ul class=\"findings\">{findings}</ul>"))}</td>
            </tr>
            """);
    }

    private static Html Rpo(SourceObjectives? o)
    {
        if (o is null)
        {
            return Html.Of($"<span class=\"muted\">unknown</span>");
        }

        var now = o.RpoSeconds is { } r ? Layout.Duration(r) : "no recoverable point";
        var objective = o.RpoObjectiveSeconds is { } ro ? Layout.Duration(ro) + (o.RpoObjectiveDefault ? " (default)" : "") : "none set";
        return Html.Of($"{now} / {objective}{(o.RpoViolated ? Html.Of($" <strong>violated</strong>") : Html.Empty)}");
    }

    private static Html Rto(DrillStatus? d)
    {
        if (d?.LatestDrill is null)
        {
            return Html.Of($"<span class=\"muted\">never drilled</span>");
        }

        var rto = d.LatestRtoSeconds is { } s ? Layout.Duration(s) : "not measured";
        var objective = d.RtoObjectiveSeconds is { } o ? Layout.Duration(o) : "none set";
        return Html.Of($"{d.LatestDrill} ({d.LatestResult}); RTO {rto} / {objective}{(d.RtoViolated == true ? Html.Of($" <strong>violated</strong>") : Html.Empty)}");
    }
}
