using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// Tenants through the real server (docs/design/tenants.md, issue 16): two tenants made through the API by a
/// superadmin, each with data; tenant A's admin token is sent at every operation of the OpenAPI document with every
/// id and name of tenant B, and nothing of B may come back. Also suspension, per-tenant keys, a broken tenant, and what
/// a superadmin may do.
/// </summary>
public sealed class TenantIsolationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ITestOutputHelper _output;

    public TenantIsolationTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// The sweep. The rule applied to every answer A gets (docs/tenants.md, "Isolation sweep"):
    /// <list type="bullet">
    /// <item>with an id or name of B in the path or the query, the answer equals the answer for a <em>twin</em> — a value of
    /// the same shape that never existed (the id with its last four characters changed) — in status and problem code:
    /// existence does not leak, whatever the status;</item>
    /// <item>with an id of B in the path, the status is 404, or 400/422 only when the twin gets the same (the body or the
    /// query was refused before any id was looked up), or 403 only when the twin gets it too (the role may not call the
    /// route at all: /api/v1/tenants…), or 405 only when the twin gets it too (HEAD is not mapped); never 2xx;</item>
    /// <item>no body, header or Server-Sent Events stream A receives contains an identifier of B (names, ids, directory,
    /// repository URL, webhook URL, token names and secrets) other than the very value A sent (an error may echo it);</item>
    /// <item>routes without path ids (lists, /metrics, the event stream) contain nothing of B;</item>
    /// <item>the default tenant's admin is swept too: only the registry's own facts of B (its name, directory, repository
    /// and the correlation ids of the superadmin's calls that made it) may be in the server's own audit trail and log.</item>
    /// </list>
    /// </summary>
    [Fact]
    public async Task Tenant_A_gets_nothing_of_tenant_B_from_any_route_of_the_OpenAPI_document_with_any_of_B_s_ids()
    {
        await using var world = await TenantWorld.StartAsync();
        var bravo = world.Bravo;
        using var a = world.Client(world.Alpha.AdminToken);
        using var b = world.Client(bravo.AdminToken);
        var document = JsonDocument.Parse(await a.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), Ct)).RootElement;
        var operations = Operations(document).ToList();
        Assert.True(operations.Count >= 60, $"only {operations.Count} operations in the OpenAPI document");

        // B's ids are real: with B's own token they are found.
        foreach (var url in new[] { $"/api/v1/backups/{bravo.BackupIds[1]}", $"/api/v1/jobs/{bravo.JobIds[0]}", $"/api/v1/webhooks/{bravo.WebhookId}", $"/api/v1/approvals/{bravo.ApprovalId}", $"/api/v1/schedules/{bravo.Schedule}", $"/api/v1/retention/{bravo.Source}/preview" }
                     .Concat(bravo.DrillIds.Select(d => $"/api/v1/drills/{d}")).Concat(bravo.DeliveryIds.Select(d => $"/api/v1/deliveries/{d}")))
        {
            Assert.True((await b.GetAsync(new Uri(url, UriKind.Relative), Ct)).StatusCode == HttpStatusCode.OK, $"B's own GET {url}");
        }

        var ids = bravo.PathValues();
        var alpha = await SweepAsync(world, a, operations, "tenant alpha's admin", bravo.Identifiers());
        // The server's own (default) tenant is a tenant like the others: its admin sees nothing of B's data either. Only
        // the registry's own facts — B's name, directory and repository, and the correlation ids of the superadmin's calls
        // that made it — are in the server's own audit trail and log (docs/tenants.md, "Isolation sweep").
        using var host = world.Server.Client(Roles.Admin);
        var defaultTenant = await SweepAsync(world, host, operations, "the default tenant's admin", bravo.Identifiers().Except(bravo.RegistryFacts()).ToList());

        // The metrics: those A may read, and the anonymous ones (the default tenant's), name nothing of B.
        await alpha.SendAsync(new Operation("GET", "/metrics", [], []), "/metrics", null);
        using (var anonymous = world.Client(null))
        {
            var metrics = await anonymous.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
            alpha.Requests++;
            alpha.Scan("anonymous GET /metrics", metrics);
        }

        var requests = alpha.Requests + defaultTenant.Requests;
        var leaks = alpha.Leaks.Concat(defaultTenant.Leaks).ToList();
        _output.WriteLine($"isolation sweep: {operations.Count} operations, {ids.Count} ids and names of tenant B, {alpha.Requests} requests with tenant alpha's admin token ({alpha.Leaks.Count} leaks), {defaultTenant.Requests} with the default tenant's ({defaultTenant.Leaks.Count} leaks): {requests} requests, {leaks.Count} leaks");
        Assert.True(alpha.Requests >= operations.Count * ids.Count, $"only {alpha.Requests} requests");
        Assert.True(leaks.Count == 0, $"{leaks.Count} leaks:\n" + string.Join("\n", leaks));

        // B's data is all still there: nothing A sent changed it.
        var backups = JsonDocument.Parse(await b.GetStringAsync(new Uri("/api/v1/backups", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Equal(bravo.BackupIds.Count + 2, backups.GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync(new Uri($"/api/v1/webhooks/{bravo.WebhookId}", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal("pending", JsonDocument.Parse(await b.GetStringAsync(new Uri($"/api/v1/approvals/{bravo.ApprovalId}", UriKind.Relative), Ct)).RootElement.GetProperty("state").GetString());
    }

    /// <summary>Every operation with every id and name of B, sent with <paramref name="client"/>'s token (see the rule above).</summary>
    private async Task<Sweep> SweepAsync(TenantWorld world, HttpClient client, IReadOnlyList<Operation> operations, string who, IReadOnlyList<string> identifiers)
    {
        var bravo = world.Bravo;
        var sweep = new Sweep(client, identifiers, _output, who);

        // The caller listens to its event stream while B works (a backup, its events): none may reach it.
        using (var streamCancel = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var stream = sweep.ReadStreamAsync("/api/v1/events/stream", streamCancel.Token);
            using var b = world.Client(bravo.AdminToken);
            var before = JsonDocument.Parse(await b.GetStringAsync(new Uri("/api/v1/events?limit=1", UriKind.Relative), Ct)).RootElement.GetProperty("items")[0].GetProperty("id").GetString()!;
            await world.BackupAsync(b, bravo.Source);
            // Positive control instead of a pause: B's own stream, resumed from before the backup, carries its
            // backup.completed — so the event was committed and streamable while the caller's stream was open.
            using (var control = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/events/stream", UriKind.Relative)))
            {
                control.Headers.Add("Last-Event-ID", before);
                using var response = await b.SendAsync(control, HttpCompletionOption.ResponseHeadersRead, Ct);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
                while (await reader.ReadLineAsync(Ct) is { } line && !line.Contains("backup.completed", StringComparison.Ordinal))
                {
                }
            }

            await streamCancel.CancelAsync();
            sweep.Scan("GET /api/v1/events/stream while B backed up", await stream);
        }

        var ids = bravo.PathValues();
        // 1. Reads first (B's data must still be there for them), then the calls that would change something.
        foreach (var op in operations.OrderBy(o => o.Method is "GET" ? 0 : 1))
        {
            if (op.PathParameters.Count == 0)
            {
                await sweep.SendAsync(op, op.Path, Body(op));
                foreach (var query in op.QueryParameters)
                {
                    foreach (var value in ids)
                    {
                        var url = $"{op.Path}?{query}={Uri.EscapeDataString(value)}";
                        var twin = $"{op.Path}?{query}={Uri.EscapeDataString(Twin(value))}";
                        await sweep.CompareAsync(op, url, twin, value, Body(op), pathId: false);
                    }
                }

                continue;
            }

            foreach (var value in ids)
            {
                var url = op.PathParameters.Aggregate(op.Path, (p, name) => p.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal));
                var twin = op.PathParameters.Aggregate(op.Path, (p, name) => p.Replace("{" + name + "}", Uri.EscapeDataString(Twin(value)), StringComparison.Ordinal));
                await sweep.CompareAsync(op, url, twin, value, Body(op), pathId: true);
                if (op.Method == "GET")
                {
                    await sweep.CompareAsync(op with { Method = "HEAD" }, url, twin, value, null, pathId: true);
                }
            }
        }

        // 2. The long operations, started naming B's sources and backups in the body: their jobs fail as for a name that
        //    never existed, and their results and errors hold nothing of B but the names sent.
        var restoreTo = world.Dir.Combine("restore-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var (path, body, echoes) in new (string, object, string[])[]
        {
            ("/api/v1/backups", new { source = bravo.Source }, [bravo.Source]),
            ("/api/v1/drills", new { source = bravo.Source }, [bravo.Source]),
            ("/api/v1/expire", new { source = bravo.Source, dryRun = true }, [bravo.Source]),
            ("/api/v1/restores", new { source = bravo.Source, backup = bravo.BackupIds[1], to = restoreTo }, [bravo.Source, bravo.BackupIds[1]]),
            ("/api/v1/replicate", new { to = bravo.Target }, [bravo.Target]),
        })
        {
            await sweep.JobAsync(path, body, echoes);
        }

        return sweep;
    }

    [Fact]
    public async Task A_suspended_tenant_reads_but_its_writes_are_423_Suspended_with_the_reason_and_resume_lets_them_through()
    {
        await using var world = await TenantWorld.StartAsync(withData: false);
        var bravo = world.Bravo;
        using var super = world.Superadmin();
        using var b = world.Client(bravo.AdminToken);
        using var a = world.Client(world.Alpha.AdminToken);
        var backup = await world.BackupAsync(b, bravo.Source);

        await TenantWorld.OkAsync(super, HttpMethod.Post, "/api/v1/tenants/bravo/suspend", new { reason = "invoice 4711 unpaid" });
        var listed = await TenantWorld.OkAsync(b, HttpMethod.Get, "/api/v1/backups", null);
        Assert.Equal(backup, listed.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync(new Uri($"/api/v1/backups/{backup}", UriKind.Relative), Ct)).StatusCode);

        foreach (var (path, body) in new (string, object)[] { ("/api/v1/backups", new { source = bravo.Source }), ("/api/v1/webhooks", new { url = "http://127.0.0.1:9/hook" }) })
        {
            var refused = await b.PostAsJsonAsync(new Uri(path, UriKind.Relative), body, Ct);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.True(refused.StatusCode == (HttpStatusCode)423, problem.GetRawText());
            Assert.Equal("Suspended", problem.GetProperty("code").GetString());
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.Contains("tenant 'bravo' is suspended", detail, StringComparison.Ordinal);
            Assert.Contains("invoice 4711 unpaid", detail, StringComparison.Ordinal);
            Assert.Contains("tenant resume bravo", problem.GetProperty("hint").GetString(), StringComparison.Ordinal);
        }

        // The other tenant is not affected.
        await TenantWorld.OkAsync(a, HttpMethod.Post, "/api/v1/webhooks", new { url = "http://127.0.0.1:9/alpha" });

        await TenantWorld.OkAsync(super, HttpMethod.Post, "/api/v1/tenants/bravo/resume", new { });
        await world.BackupAsync(b, bravo.Source);
        await TenantWorld.OkAsync(b, HttpMethod.Post, "/api/v1/webhooks", new { url = "http://127.0.0.1:9/hook" });
    }

    /// <summary>
    /// WAL archiving and fetching go on in a suspended tenant (docs/design/tenants.md, "Suspension"): a real wal-push needs
    /// PostgreSQL, so this checks on the compiled code that neither use case, nor what they call, reaches a gate.
    /// </summary>
    [Fact]
    public void Wal_push_and_fetch_never_reach_the_tenant_gate_or_the_maintenance_gate()
    {
        var engine = typeof(IUseCase<,>).Assembly;
        string[] gates = ["Lifeboat.Engine.Application.TenantGate", "Lifeboat.Engine.Application.MaintenanceGate"];
        bool Checked(string? name) => name is not null && (name.StartsWith("Lifeboat.Engine.UseCases.Wal.PushWal", StringComparison.Ordinal)
            || name.StartsWith("Lifeboat.Engine.UseCases.Wal.FetchWal", StringComparison.Ordinal)
            || name.StartsWith("Lifeboat.Engine.Application.RepositoryOpener", StringComparison.Ordinal)
            || name.StartsWith("Lifeboat.Engine.Application.Events", StringComparison.Ordinal));
        var result = NetArchTest.Rules.Types.InAssembly(engine).ShouldNot().HaveDependencyOnAny(gates).GetResult();
        var failing = (result.FailingTypes ?? []).Select(t => t.FullName).Where(Checked).ToList();
        Assert.True(failing.Count == 0, "WAL archiving reaches a gate: " + string.Join(", ", failing));

        // The check sees into the use cases' async bodies: PushWal's resolves its cluster there.
        var control = NetArchTest.Rules.Types.InAssembly(engine).ShouldNot().HaveDependencyOnAny("Lifeboat.Engine.Cluster.CopyArchiving").GetResult();
        Assert.Contains(control.FailingTypes ?? [], t => t.FullName.StartsWith("Lifeboat.Engine.UseCases.Wal.PushWal", StringComparison.Ordinal));
        // And the gates are real: the backup use case reaches one.
        Assert.Contains(result.FailingTypes ?? [], t => t.FullName.StartsWith("Lifeboat.Engine.UseCases.Backups.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tenant_s_repository_does_not_open_with_another_tenant_s_key_and_a_broken_tenant_leaves_the_others_served()
    {
        await using var world = await TenantWorld.StartAsync(withData: false);
        using var a = world.Client(world.Alpha.AdminToken);
        using var b = world.Client(world.Bravo.AdminToken);
        await world.BackupAsync(a, world.Alpha.Source);
        var bravoBackup = await world.BackupAsync(b, world.Bravo.Source);

        var bravoConfig = Path.Combine(world.Bravo.Directory, "lifeboat.json");
        var alphaKey = Path.Combine(world.Alpha.Directory, "repository.key");
        var bravoKey = Path.Combine(world.Bravo.Directory, "repository.key");
        Assert.True(File.Exists(alphaKey) && File.Exists(bravoKey));
        var opened = await world.Cli.Cli.RunAsync("--config", bravoConfig, "--key-file", bravoKey, "list", "--json");
        Assert.True(opened.ExitCode == 0, opened.Error);
        Assert.Contains(bravoBackup, opened.Out, StringComparison.Ordinal);
        var refused = await world.Cli.Cli.RunAsync("--config", bravoConfig, "--key-file", alphaKey, "list", "--json");
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}: {refused.Out} {refused.Error}");
        Assert.Contains("WrongPassphrase", refused.Error + refused.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(bravoBackup, refused.Out, StringComparison.Ordinal);

        // A tenant whose configuration is damaged: its calls get a clear error, the other tenant's calls go on.
        File.WriteAllText(bravoConfig, "{ this is not json");
        var broken = await b.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct);
        var problem = JsonDocument.Parse(await broken.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.True((int)broken.StatusCode >= 400, problem.GetRawText());
        Assert.Equal("Config", problem.GetProperty("code").GetString());
        Assert.Contains("lifeboat.json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
        await world.BackupAsync(a, world.Alpha.Source);
        using var anonymous = world.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/readyz", UriKind.Relative), Ct)).StatusCode);
        using var super = world.Superadmin();
        Assert.Equal(HttpStatusCode.OK, (await super.GetAsync(new Uri("/api/v1/tenants", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task A_superadmin_acts_in_the_default_tenant_only_a_tenant_s_admin_cannot_manage_tenants_and_no_tenant_has_a_superadmin()
    {
        await using var world = await TenantWorld.StartAsync(withData: false);
        var bravo = world.Bravo;
        using var b = world.Client(bravo.AdminToken);
        var backup = await world.BackupAsync(b, bravo.Source);
        using var super = world.Superadmin();

        // Inside a tenant's routes the superadmin is in the default tenant: B's objects are not there.
        Assert.Equal(HttpStatusCode.NotFound, (await super.GetAsync(new Uri($"/api/v1/backups/{backup}", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await super.GetAsync(new Uri($"/api/v1/backups/{backup}/download", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await super.DeleteAsync(new Uri($"/api/v1/backups/{backup}", UriKind.Relative), Ct)).StatusCode);
        foreach (var list in (string[])["/api/v1/sources", "/api/v1/backups", "/api/v1/jobs", "/api/v1/runs", "/api/v1/tokens", "/api/v1/tokens?all=true", "/api/v1/status"])
        {
            var text = await super.GetStringAsync(new Uri(list, UriKind.Relative), Ct);
            Assert.DoesNotContain(bravo.Source, text, StringComparison.Ordinal);
            Assert.DoesNotContain(backup, text, StringComparison.Ordinal);
            Assert.DoesNotContain(bravo.AdminTokenId, text, StringComparison.Ordinal);
        }

        Assert.Contains("\"app\"", await super.GetStringAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync(new Uri($"/api/v1/tokens", UriKind.Relative), Ct)).StatusCode);
        Assert.Contains(bravo.AdminTokenId, await b.GetStringAsync(new Uri("/api/v1/tokens", UriKind.Relative), Ct), StringComparison.Ordinal);

        // A tenant's admin may not manage tenants, not even its own: 403 whatever the name.
        foreach (var (method, path) in new[] { ("GET", "/api/v1/tenants"), ("GET", "/api/v1/tenants/bravo"), ("GET", "/api/v1/tenants/alpha"), ("GET", "/api/v1/tenants/nope"), ("POST", "/api/v1/tenants/alpha/tokens"), ("POST", "/api/v1/tenants/bravo/suspend") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? JsonContent.Create(new { name = "x", role = "viewer", reason = "x" }) : null };
            Assert.Equal(HttpStatusCode.Forbidden, (await b.SendAsync(request, Ct)).StatusCode);
        }

        // No superadmin inside a tenant: neither made by the superadmin nor by the tenant's admin.
        var made = await super.PostAsJsonAsync(new Uri("/api/v1/tenants/bravo/tokens", UriKind.Relative), new { name = "boss", role = Roles.Superadmin }, Ct);
        var problem = JsonDocument.Parse(await made.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.True(made.StatusCode == HttpStatusCode.BadRequest, problem.GetRawText());
        Assert.Contains("superadmin", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var own = await b.PostAsJsonAsync(new Uri("/api/v1/tokens", UriKind.Relative), new { name = "boss", role = Roles.Superadmin }, Ct);
        Assert.True(own.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity, await own.Content.ReadAsStringAsync(Ct));
        // Nor a token in another tenant: refused alike whether that tenant exists or not.
        var other = await b.PostAsJsonAsync(new Uri("/api/v1/tokens", UriKind.Relative), new { name = "spy", role = Roles.Viewer, tenant = "alpha" }, Ct);
        var none = await b.PostAsJsonAsync(new Uri("/api/v1/tokens", UriKind.Relative), new { name = "spy", role = Roles.Viewer, tenant = "alpha0000" }, Ct);
        Assert.True(other.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity, await other.Content.ReadAsStringAsync(Ct));
        Assert.Equal(none.StatusCode, other.StatusCode);
        Assert.DoesNotContain(world.Alpha.AdminTokenId, await b.GetStringAsync(new Uri("/api/v1/tokens?all=true", UriKind.Relative), Ct), StringComparison.Ordinal);
        // The one thing a superadmin does to a tenant's objects outside /api/v1/tenants: revoke a token (a leaked one) by id
        // (RevokeToken, by design of the tokens use case; TokenTests covers it).
        Assert.Equal(HttpStatusCode.OK, (await super.DeleteAsync(new Uri($"/api/v1/tokens/{bravo.AdminTokenId}", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
    }

    /// <summary>A minimal valid body for the operations that need one (so that the id, not the body, decides), else {}.</summary>
    private static object? Body(Operation op) => op.Method switch
    {
        "GET" or "HEAD" or "DELETE" => null,
        _ => op.Path switch
        {
            "/api/v1/approvals/{id}/approve" or "/api/v1/approvals/{id}/deny" => new { reason = "sweep" },
            "/api/v1/tenants/{name}/suspend" => new { reason = "sweep" },
            "/api/v1/tenants/{name}/tokens" => new { name = "sweep", role = "viewer" },
            "/api/v1/retention/{name}" => new { keepLast = 3 },
            "/api/v1/schedules/{name}" => new { cron = "0 4 * * *" },
            "/api/v1/webhooks/{id}" => new { description = "sweep" },
            "/api/v1/webhooks/{id}/replay" => new { since = "2000-01-01T00:00:00Z" },
            _ => new Dictionary<string, string>(),
        },
    };

    /// <summary>A value of the same shape as <paramref name="value"/> that no tenant has.</summary>
    internal static string Twin(string value)
    {
        var tail = value.EndsWith("0000", StringComparison.Ordinal) ? "1111" : "0000";
        return value.Length > 4 ? value[..^4] + tail : value + tail;
    }

    internal sealed record Operation(string Method, string Path, IReadOnlyList<string> PathParameters, IReadOnlyList<string> QueryParameters);

    private static IEnumerable<Operation> Operations(JsonElement document)
    {
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                var parameters = method.Value.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
                string[] Named(string where) => parameters.Where(x => x.GetProperty("in").GetString() == where).Select(x => x.GetProperty("name").GetString()!).ToArray();
                // Query parameters that take text (a name, an id, a cursor), not numbers or flags.
                var query = parameters.Where(x => x.GetProperty("in").GetString() == "query"
                    && x.TryGetProperty("schema", out var s) && s.TryGetProperty("type", out var t) && (t.ValueKind == JsonValueKind.String ? t.GetString() == "string" : t.EnumerateArray().Any(e => e.GetString() == "string")))
                    .Select(x => x.GetProperty("name").GetString()!).ToArray();
                yield return new Operation(method.Name.ToUpperInvariant(), path.Name, Named("path"), query);
            }
        }
    }

    /// <summary>Sends A's requests, counts them, and records every answer that breaks the rule of the sweep.</summary>
    private sealed class Sweep
    {
        private readonly HttpClient _client;
        private readonly IReadOnlyList<string> _identifiers;
        private readonly ITestOutputHelper _output;
        private readonly Dictionary<string, (int Status, string? Code)> _twins = new(StringComparer.Ordinal);

        private readonly string _who;

        public Sweep(HttpClient client, IReadOnlyList<string> identifiers, ITestOutputHelper output, string who)
        {
            _client = client;
            _identifiers = identifiers;
            _output = output;
            _who = who;
        }

        public int Requests { get; set; }

        public List<string> Leaks { get; } = [];

        /// <summary>One call; the answer is scanned for B's identifiers (but <paramref name="echoes"/>, the values sent).</summary>
        public async Task<(int Status, string? Code, string Body)> SendAsync(Operation op, string url, object? body, params string[] echoes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(op.Method), url);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            Requests++;
            var text = await ReadAsync(response, timeout.Token);
            var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => h.Key + ": " + string.Join(", ", h.Value)));
            var what = $"{op.Method} {url} → {(int)response.StatusCode}";
            Scan(what, headers + "\n" + text, echoes);
            string? code = null;
            if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json" && text.StartsWith('{'))
            {
                try
                {
                    code = JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                }
                catch (JsonException)
                {
                }
            }

            return ((int)response.StatusCode, code, text);
        }

        /// <summary>The call with B's value against the same call with its twin: indistinguishable, and for a path id a 404 (see the test's rule).</summary>
        public async Task CompareAsync(Operation op, string url, string twinUrl, string value, object? body, bool pathId)
        {
            var key = op.Method + " " + twinUrl;
            if (!_twins.TryGetValue(key, out var twin))
            {
                var (status, code, _) = await SendAsync(op, twinUrl, body, Twin(value));
                twin = _twins[key] = (status, code);
            }

            var (actual, actualCode, text) = await SendAsync(op, url, body, value);
            var what = $"{op.Method} {url}";
            if (actual != twin.Status || actualCode != twin.Code)
            {
                Leak($"{what}: {actual} {actualCode} for B's '{value}' but {twin.Status} {twin.Code} for a value that never existed: {Short(text)}");
            }
            else if (pathId && actual is >= 200 and < 300)
            {
                Leak($"{what}: {actual} for an id of another tenant (must be 404): {Short(text)}");
            }
            else if (pathId && actual is not (404 or 400 or 422 or 403 or 405))
            {
                Leak($"{what}: {actual} for an id of another tenant (must be 404): {Short(text)}");
            }
        }

        /// <summary>A long operation started with B's <paramref name="echoes"/> in its body: the job's whole life is scanned.</summary>
        public async Task JobAsync(string path, object body, string[] echoes)
        {
            var op = new Operation("POST", path, [], []);
            var (status, _, text) = await SendAsync(op, path, body, echoes);
            if (status != 202)
            {
                return;
            }

            var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
            var done = await ServerFixture.FinishedJobAsync(_client, id);
            Requests++;
            Scan($"job {id} of POST {path}", done.GetRawText(), echoes);
            if (done.GetProperty("state").GetString() == "succeeded")
            {
                Leak($"POST {path} with B's '{string.Join("', '", echoes)}' succeeded: {Short(done.GetRawText())}");
            }
        }

        /// <summary>A Server-Sent Events stream, read until <paramref name="cancellationToken"/> is cancelled.</summary>
        public async Task<string> ReadStreamAsync(string url, CancellationToken cancellationToken)
        {
            var text = new StringBuilder();
            try
            {
                await using var stream = await _client.GetStreamAsync(new Uri(url, UriKind.Relative), cancellationToken);
                Requests++;
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    text.AppendLine(line);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            return text.ToString();
        }

        public void Scan(string what, string text, params string[] echoes)
        {
            foreach (var echo in echoes.OrderByDescending(e => e.Length))
            {
                text = text.Replace(echo, "«echo»", StringComparison.Ordinal).Replace(Uri.EscapeDataString(echo), "«echo»", StringComparison.Ordinal);
            }

            foreach (var identifier in _identifiers.Where(i => text.Contains(i, StringComparison.Ordinal)))
            {
                Leak($"{what}: B's '{identifier}' in {Short(Around(text, identifier))}");
            }
        }

        private void Leak(string text)
        {
            Leaks.Add($"{_who}: {text}");
            _output.WriteLine($"LEAK {_who}: {text}");
        }

        private static async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
        {
            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                return Encoding.UTF8.GetString(bytes);
            }

            // A stream that does not end: what it says in half a second.
            using var brief = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            brief.CancelAfter(TimeSpan.FromMilliseconds(500));
            var text = new StringBuilder();
            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(brief.Token);
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(brief.Token) is { } line)
                {
                    text.AppendLine(line);
                }
            }
            catch (OperationCanceledException) when (brief.IsCancellationRequested)
            {
            }

            return text.ToString();
        }

        private static string Around(string text, string identifier)
        {
            var at = text.IndexOf(identifier, StringComparison.Ordinal);
            return text[Math.Max(0, at - 120)..Math.Min(text.Length, at + identifier.Length + 120)];
        }

        private static string Short(string text) => text.Length > 400 ? text[..400] + "…" : text;
    }

    /// <summary>One tenant made through the API, and what it holds.</summary>
    internal sealed class TenantData
    {
        public required string Name { get; init; }

        public required string AdminToken { get; init; }

        public required string AdminTokenId { get; init; }

        public required string Directory { get; init; }

        public required string Repository { get; init; }

        public required string Source { get; init; }

        public required string SourcePath { get; init; }

        public List<string> BackupIds { get; } = [];

        public List<string> JobIds { get; } = [];

        public List<string> TokenIds { get; } = [];

        public List<string> Secrets { get; } = [];

        public List<string> EventIds { get; } = [];

        public List<string> CorrelationIds { get; } = [];

        public List<string> RunIds { get; } = [];

        public List<string> DeliveryIds { get; } = [];

        public List<string> DrillIds { get; } = [];

        /// <summary>The correlation ids of the superadmin's calls that made the tenant and its first token.</summary>
        public List<string> ManagementCorrelationIds { get; } = [];

        public string? WebhookId { get; set; }

        public string? WebhookUrl { get; set; }

        public string? ApprovalId { get; set; }

        public string Schedule => Name + "-nightly";

        public string Stack => Name + "-stack";

        public string Target => Name + "-copy";

        public string TokenName => Name + "-admin";

        /// <summary>Every id and name of the tenant that can stand in a URL.</summary>
        public List<string> PathValues() =>
        [
            Name, Source, Schedule, Stack, Target, .. BackupIds, .. JobIds, .. TokenIds, .. EventIds, .. RunIds, .. DeliveryIds, .. DrillIds,
            .. (WebhookId is null ? Array.Empty<string>() : [WebhookId]), .. (ApprovalId is null ? Array.Empty<string>() : [ApprovalId]),
        ];

        /// <summary>What the tenant registry itself says of the tenant (the server's own audit trail and log hold it).</summary>
        public List<string> RegistryFacts() => [Name, Directory, Repository, .. ManagementCorrelationIds];

        /// <summary>What must never reach another tenant.</summary>
        public List<string> Identifiers() =>
        [
            .. PathValues(), .. CorrelationIds, Directory, Repository, SourcePath, TokenName, AdminToken, .. Secrets,
            .. (WebhookUrl is null ? Array.Empty<string>() : [WebhookUrl]),
        ];
    }

    /// <summary>A server (its default tenant: the CLI fixture's workspace) with tenants alpha and bravo made by its superadmin.</summary>
    internal sealed class TenantWorld : IAsyncDisposable
    {
        private readonly CliFixture _cli;
        private readonly ServerFixture _server;

        private TenantWorld(CliFixture cli, ServerFixture server)
        {
            _cli = cli;
            _server = server;
        }

        public TempDir Dir => _cli.Dir;

        public CliFixture Cli => _cli;

        public ServerFixture Server => _server;

        public TenantData Alpha { get; private set; } = null!;

        public TenantData Bravo { get; private set; } = null!;

        public static async Task<TenantWorld> StartAsync(bool withData = true)
        {
            var cli = new CliFixture();
            await cli.InitAsync();
            // The sweep makes thousands of requests from one client: no rate limit.
            var config = cli.Dir.Combine("lifeboat.json");
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
            json["Server"] = new System.Text.Json.Nodes.JsonObject { ["RequestsPerMinute"] = 0 };
            File.WriteAllText(config, json.ToJsonString());
            var server = await ServerFixture.StartAsync(cli);
            var world = new TenantWorld(cli, server);
            world.Alpha = await world.AddTenantAsync("alpha", withData);
            world.Bravo = await world.AddTenantAsync("bravo", withData);
            return world;
        }

        public HttpClient Client(string? token)
        {
            var http = new HttpClient { BaseAddress = _server.Address };
            if (token is not null)
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            return http;
        }

        public HttpClient Superadmin() => _server.Client(Roles.Superadmin);

        /// <summary>A backup through the API (a job), waited for: its id.</summary>
        public async Task<string> BackupAsync(HttpClient client, string source)
        {
            var accepted = await client.PostAsJsonAsync(new Uri("/api/v1/backups", UriKind.Relative), new { source }, Ct);
            var text = await accepted.Content.ReadAsStringAsync(Ct);
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, text);
            var job = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
            var done = await ServerFixture.FinishedJobAsync(client, job);
            Assert.True(done.GetProperty("state").GetString() == "succeeded", done.GetRawText());
            return done.GetProperty("result").GetProperty("id").GetString()!;
        }

        private async Task<TenantData> AddTenantAsync(string name, bool withData)
        {
            using var super = Superadmin();
            var added = await super.PostAsJsonAsync(new Uri("/api/v1/tenants", UriKind.Relative), new { name, displayName = name + " customer" }, Ct);
            var addedText = await added.Content.ReadAsStringAsync(Ct);
            Assert.True(added.StatusCode == HttpStatusCode.Created, addedText);
            var tenant = JsonDocument.Parse(addedText).RootElement;
            var token = await super.PostAsJsonAsync(new Uri($"/api/v1/tenants/{name}/tokens", UriKind.Relative), new { name = name + "-admin", role = Roles.Admin }, Ct);
            var tokenText = await token.Content.ReadAsStringAsync(Ct);
            Assert.True(token.StatusCode == HttpStatusCode.Created, tokenText);
            var created = JsonDocument.Parse(tokenText).RootElement;
            var files = Dir.Dir(name + "-data");
            TestData.WriteTree(files, 2);
            var data = new TenantData
            {
                Name = name,
                AdminToken = created.GetProperty("token").GetString()!,
                AdminTokenId = created.GetProperty("id").GetString()!,
                Directory = tenant.GetProperty("tenant").GetProperty("directory").GetString()!,
                Repository = tenant.GetProperty("repository").GetString()!,
                Source = name + "-files",
                SourcePath = files,
            };
            data.TokenIds.Add(data.AdminTokenId);
            data.ManagementCorrelationIds.Add(added.Headers.GetValues("X-Correlation-Id").Single());
            data.ManagementCorrelationIds.Add(token.Headers.GetValues("X-Correlation-Id").Single());
            data.Secrets.Add(data.AdminToken);
            using var admin = Client(data.AdminToken);
            await OkAsync(admin, HttpMethod.Post, "/api/v1/sources/files", new { name = data.Source, path = files });
            if (!withData)
            {
                return data;
            }

            var viewer = await OkAsync(admin, HttpMethod.Post, "/api/v1/tokens", new { name = name + "-viewer", role = Roles.Viewer });
            data.TokenIds.Add(viewer.GetProperty("id").GetString()!);
            data.Secrets.Add(viewer.GetProperty("token").GetString()!);
            await OkAsync(admin, HttpMethod.Post, "/api/v1/stacks", new { name = data.Stack, sources = new[] { data.Source } });
            await OkAsync(admin, HttpMethod.Post, "/api/v1/schedules", new { name = data.Schedule, kind = "backup", source = data.Source, cron = "0 3 * * *" });
            await OkAsync(admin, HttpMethod.Put, $"/api/v1/retention/{data.Source}", new { keepLast = 7 });
            var copy = Dir.Combine(name + "-copy");
            await OkAsync(admin, HttpMethod.Post, "/api/v1/targets", new { name = data.Target, url = new Uri(copy).AbsoluteUri, manual = true });
            data.WebhookUrl = $"http://127.0.0.1:9/{name}-hook";
            var hook = await OkAsync(admin, HttpMethod.Post, "/api/v1/webhooks", new { url = data.WebhookUrl, events = new[] { "backup.*" } });
            data.WebhookId = hook.GetProperty("id").GetString()!;
            data.Secrets.Add(hook.GetProperty("secret").GetString()!);
            for (var i = 0; i < 2; i++)
            {
                File.WriteAllText(Path.Combine(files, $"more-{i}.txt"), new string('x', 500 * (i + 1)));
                data.BackupIds.Add(await BackupAsync(admin, data.Source));
            }

            // A drill of a files source, when this build can drill one (its id joins B's ids either way it ends).
            var drill = await admin.PostAsJsonAsync(new Uri("/api/v1/drills", UriKind.Relative), new { source = data.Source }, Ct);
            if (drill.StatusCode == HttpStatusCode.Accepted)
            {
                var drillJob = JsonDocument.Parse(await drill.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
                var done = await ServerFixture.FinishedJobAsync(admin, drillJob);
                if (done.TryGetProperty("result", out var report) && report.ValueKind == JsonValueKind.Object && report.TryGetProperty("id", out var drillId))
                {
                    data.DrillIds.Add(drillId.GetString()!);
                }
            }

            var test = await admin.PostAsync(new Uri($"/api/v1/webhooks/{data.WebhookId}/test", UriKind.Relative), null, Ct);
            _ = await test.Content.ReadAsStringAsync(Ct);

            // A pending approval: forgetting a backup needs one once the policy is set.
            await OkAsync(admin, HttpMethod.Put, "/api/v1/approvals/policies", new { operation = "backup.forget", approvals = 1, role = Roles.Admin });
            var forget = await admin.DeleteAsync(new Uri($"/api/v1/backups/{data.BackupIds[0]}", UriKind.Relative), Ct);
            var forgetText = await forget.Content.ReadAsStringAsync(Ct);
            Assert.True(forget.StatusCode == HttpStatusCode.Accepted, forgetText);
            data.ApprovalId = JsonDocument.Parse(forgetText).RootElement.GetProperty("approval").GetProperty("id").GetString()!;

            foreach (var job in (await OkAsync(admin, HttpMethod.Get, "/api/v1/jobs", null)).GetProperty("items").EnumerateArray())
            {
                data.JobIds.Add(job.GetProperty("id").GetString()!);
            }

            foreach (var e in (await OkAsync(admin, HttpMethod.Get, "/api/v1/events?limit=500", null)).GetProperty("items").EnumerateArray())
            {
                data.EventIds.Add(e.GetProperty("id").GetString()!);
                if (e.TryGetProperty("correlationId", out var correlation) && correlation.GetString() is { Length: > 0 } c && !data.CorrelationIds.Contains(c))
                {
                    data.CorrelationIds.Add(c);
                }
            }

            var runs = await OkAsync(admin, HttpMethod.Get, "/api/v1/runs", null);
            foreach (var run in (runs.ValueKind == JsonValueKind.Array ? runs : runs.GetProperty("items")).EnumerateArray())
            {
                data.RunIds.Add(run.GetProperty("id").GetString()!);
            }

            foreach (var d in (await OkAsync(admin, HttpMethod.Get, "/api/v1/deliveries", null)).GetProperty("items").EnumerateArray())
            {
                data.DeliveryIds.Add(d.GetProperty("id").GetString()!);
            }

            Assert.NotEmpty(data.EventIds);
            Assert.NotEmpty(data.RunIds);
            return data;
        }

        /// <summary>A call that must succeed: its JSON answer.</summary>
        public static async Task<JsonElement> OkAsync(HttpClient client, HttpMethod method, string url, object? body)
        {
            using var request = new HttpRequestMessage(method, url);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            using var response = await client.SendAsync(request, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.IsSuccessStatusCode, $"{method} {url}: {(int)response.StatusCode} {text}");
            return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            _cli.Dispose();
        }
    }
}
