using Lifeboat.Postgres.Tools;

namespace Lifeboat.Catalog.Tests;

/// <summary>The same behaviour from the SQLite catalog and the PostgreSQL one.</summary>
public sealed class CatalogTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Kinds => new() { "sqlite", "postgresql" };

    private static async Task<(LifeboatCatalog Catalog, IAsyncDisposable Cleanup)> OpenAsync(string kind, TempDir dir)
    {
        if (kind == "sqlite")
        {
            return (await LifeboatCatalog.OpenSqliteAsync(dir.Combine("lifeboat.db"), TimeProvider.System, Ct), new Nothing());
        }

        Peers.Require(PgBinaries.Process.HasServer, "PostgreSQL 15 (initdb, pg_ctl)");
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_101_101);
        var cluster = await PostgresCluster.InitAsync(dir.Combine("pg"), PgBinaries.Process.NewestServer, Ct);
        await cluster.StartAsync(Ct);
        return (await LifeboatCatalog.OpenPostgresAsync(cluster.ConnectionString(), TimeProvider.System, Ct), cluster);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Runs_are_recorded_updated_and_listed_newest_first(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            Assert.Equal(CatalogMigrations.All.Max(m => m.Version), await catalog.SchemaVersionAsync(Ct));
            var t0 = DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
            await catalog.RecordRunAsync(new RunRecord { Id = "r1", Kind = "full", Source = "db", Status = RunStatus.Running, Started = t0 }, Ct);
            await catalog.RecordRunAsync(new RunRecord { Id = "r1", Kind = "full", Source = "db", Status = RunStatus.Succeeded, Started = t0, Finished = t0.AddSeconds(42), BytesRead = 1000, BytesStored = 100, BackupId = "20261122-100000-0000" }, Ct);
            await catalog.RecordRunAsync(new RunRecord { Id = "r2", Kind = "incr", Source = "db", Status = RunStatus.Failed, Started = t0.AddHours(1), Finished = t0.AddHours(1).AddSeconds(3), Error = "disk full" }, Ct);
            await catalog.RecordRunAsync(new RunRecord { Id = "r3", Kind = "files", Source = "uploads", Status = RunStatus.Succeeded, Started = t0.AddHours(2), Finished = t0.AddHours(2) }, Ct);

            var runs = await catalog.RunsAsync("db", null, 10, Ct);
            Assert.Equal(["r2", "r1"], runs.Select(r => r.Id));
            Assert.Equal("disk full", runs[0].Error);
            Assert.Equal(42_000, runs[1].DurationMs);
            Assert.Equal(100, runs[1].BytesStored);
            Assert.Equal(t0, runs[1].Started);
            Assert.Single(await catalog.RunsAsync(null, "files", 10, Ct));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Backups_wal_and_schedule_state_are_cached_and_replaced(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            var t0 = DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
            var backup = new BackupRecord { Id = "20261122-100000-0000", Source = "db", Kind = "cluster", Type = "full", Started = t0, Finished = t0.AddMinutes(1), Bytes = 10, StoredBytes = 5, Timeline = 1, StopLsn = "0/3000100", StopTime = t0.AddMinutes(1) };
            await catalog.UpsertBackupsAsync([backup, backup with { Id = "20261122-110000-0000", Started = t0.AddHours(1), Finished = t0.AddHours(1) }], Ct);
            Assert.Equal(2, (await catalog.BackupsAsync("db", Ct)).Count);
            Assert.Equal(backup, (await catalog.BackupsAsync("db", Ct))[0]);
            await catalog.ReplaceBackupsAsync([backup], Ct);
            Assert.Equal([backup], await catalog.BackupsAsync(null, Ct));
            await catalog.DeleteBackupAsync(backup.Id, Ct);
            Assert.Empty(await catalog.BackupsAsync(null, Ct));

            await catalog.ReplaceWalAsync("db", [new WalRecord("db", "7", "000000010000000000000003", 1, 3, 1234, t0)], Ct);
            Assert.Equal("000000010000000000000003", Assert.Single(await catalog.WalAsync("db", Ct)).Name);

            await catalog.SaveScheduleStateAsync(new ScheduleState("nightly", t0, RunStatus.Failed, t0.AddDays(1), 2), Ct);
            Assert.Equal(new ScheduleState("nightly", t0, RunStatus.Failed, t0.AddDays(1), 2), (await catalog.ScheduleStatesAsync(Ct))["nightly"]);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Drills_are_recorded_and_listed_newest_first_with_the_last_restorable_one_findable(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            var t0 = DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
            var passed = new DrillRecord
            {
                Id = "d1", Source = "db", Kind = "cluster", BackupId = "20261122-090000-0000", Started = t0, Finished = t0.AddSeconds(30),
                Result = "passed", Restorable = true, Target = "the end of the archived WAL", PointReached = t0.AddMinutes(-1), PointLsn = "0/4000000",
                RtoMs = 22_300, RtoObjectiveMs = 600_000, RpoMs = 60_000, RpoObjectiveMs = 300_000, ChecksPassed = 10, Summary = "PASSED", ReportJson = "{}",
            };
            await catalog.RecordDrillAsync(passed, Ct);
            await catalog.RecordDrillAsync(passed with { Id = "d2", Started = t0.AddHours(1), Finished = t0.AddHours(1).AddSeconds(5), Result = "failed", Restorable = false, PointReached = null, PointLsn = null, RtoMs = null, ChecksFailed = 1, Summary = "FAILED" }, Ct);
            await catalog.RecordDrillAsync(passed with { Id = "d3", Source = "uploads", Kind = "files" }, Ct);

            var drills = await catalog.DrillsAsync("db", 10, Ct);
            Assert.Equal(["d2", "d1"], drills.Select(d => d.Id));
            Assert.Equal(passed, drills[1]);
            Assert.Equal("d1", Assert.Single(await catalog.DrillsAsync("db", 10, Ct, restorableOnly: true)).Id);
            Assert.Equal(3, (await catalog.DrillsAsync(null, 10, Ct)).Count);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Tokens_are_found_by_hash_listed_by_tenant_touched_and_revoked_once(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            var t0 = DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
            var ci = new TokenRecord { Id = "tok_1", Name = "ci", Role = "operator", Tenant = "default", Hash = "aa11", Created = t0, CreatedBy = "cli:alice", Expires = t0.AddDays(90) };
            await catalog.InsertTokenAsync(ci, Ct);
            await catalog.InsertTokenAsync(ci with { Id = "tok_2", Name = "grafana", Role = "viewer", Hash = "bb22", Created = t0.AddMinutes(1), Expires = null, CreatedBy = null }, Ct);
            await catalog.InsertTokenAsync(ci with { Id = "tok_3", Tenant = "acme", Hash = "cc33" }, Ct);

            Assert.Equal(ci, await catalog.TokenByHashAsync("aa11", Ct));
            Assert.Null(await catalog.TokenByHashAsync("tok_1", Ct));
            Assert.Equal("grafana", (await catalog.TokenAsync("tok_2", Ct))!.Name);
            Assert.Equal(["tok_1", "tok_2"], (await catalog.TokensAsync("default", false, Ct)).Select(t => t.Id));
            Assert.Equal(["tok_3"], (await catalog.TokensAsync("acme", false, Ct)).Select(t => t.Id));

            // The last use is written at most once per resolution.
            await catalog.TouchTokenAsync("tok_1", t0.AddHours(1), TimeSpan.FromMinutes(1), Ct);
            await catalog.TouchTokenAsync("tok_1", t0.AddHours(1).AddSeconds(30), TimeSpan.FromMinutes(1), Ct);
            Assert.Equal(t0.AddHours(1), (await catalog.TokenAsync("tok_1", Ct))!.LastUsed);
            await catalog.TouchTokenAsync("tok_1", t0.AddHours(1).AddMinutes(1), TimeSpan.FromMinutes(1), Ct);
            Assert.Equal(t0.AddHours(1).AddMinutes(1), (await catalog.TokenAsync("tok_1", Ct))!.LastUsed);

            Assert.True(await catalog.RevokeTokenAsync("tok_1", t0.AddHours(2), Ct));
            Assert.True(await catalog.RevokeTokenAsync("tok_1", t0.AddHours(3), Ct));
            Assert.False(await catalog.RevokeTokenAsync("tok_nope", t0, Ct));
            Assert.Equal(t0.AddHours(2), (await catalog.TokenAsync("tok_1", Ct))!.Revoked);
            Assert.Equal(["tok_2"], (await catalog.TokensAsync("default", false, Ct)).Select(t => t.Id));
            Assert.Equal(["tok_1", "tok_2"], (await catalog.TokensAsync("default", true, Ct)).Select(t => t.Id));
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => catalog.InsertTokenAsync(ci with { Id = "tok_4" }, Ct));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_audit_trail_is_read_newest_first_by_tenant_window_actor_and_action_and_paged_by_time_and_id(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            var t0 = DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
            var entry = new AuditRecord
            {
                Id = "a1", Time = t0, Tenant = "default", ActorKind = "token", Actor = "ci", TokenId = "tok_1", Role = "operator", RemoteAddress = "192.0.2.1",
                Action = "backup.start", Target = "app", Parameters = """{"type":"full"}""", Result = "succeeded", Status = 202, CorrelationId = "c1",
            };
            await catalog.AppendAuditAsync(entry, Ct);
            await catalog.AppendAuditAsync(entry with { Id = "a2", Time = t0.AddMinutes(1), ActorKind = "cli", Actor = "alice", TokenId = null, Role = null, RemoteAddress = null, Parameters = null, Action = "token.create", Status = 201 }, Ct);
            await catalog.AppendAuditAsync(entry with { Id = "a3", Time = t0.AddMinutes(1), Result = "denied", Status = 403 }, Ct);
            await catalog.AppendAuditAsync(entry with { Id = "a4", Time = t0.AddMinutes(2), Tenant = "acme" }, Ct);

            Assert.Equal(entry, (await catalog.AuditAsync(new AuditQuery("default"), Ct))[^1]);
            Assert.Equal(["a3", "a2", "a1"], (await catalog.AuditAsync(new AuditQuery("default"), Ct)).Select(e => e.Id));
            Assert.Equal(["a4"], (await catalog.AuditAsync(new AuditQuery("acme"), Ct)).Select(e => e.Id));
            Assert.Equal(["a3", "a1"], (await catalog.AuditAsync(new AuditQuery("default", Actor: "ci"), Ct)).Select(e => e.Id));
            Assert.Equal(["a2"], (await catalog.AuditAsync(new AuditQuery("default", Action: "token.create"), Ct)).Select(e => e.Id));
            Assert.Equal(["a3", "a2"], (await catalog.AuditAsync(new AuditQuery("default", Since: t0.AddMinutes(1)), Ct)).Select(e => e.Id));
            Assert.Equal(["a1"], (await catalog.AuditAsync(new AuditQuery("default", Until: t0.AddMinutes(1)), Ct)).Select(e => e.Id));
            Assert.Equal(["a3"], (await catalog.AuditAsync(new AuditQuery("default", Limit: 1), Ct)).Select(e => e.Id));
            Assert.Equal(["a2", "a1"], (await catalog.AuditAsync(new AuditQuery("default", Before: (t0.AddMinutes(1), "a3")), Ct)).Select(e => e.Id));
            Assert.Equal(["a1"], (await catalog.AuditAsync(new AuditQuery("default", Before: (t0.AddMinutes(1), "a2")), Ct)).Select(e => e.Id));
        }
    }

    [Fact]
    public async Task Opening_the_catalog_twice_does_not_migrate_again()
    {
        using var dir = new TempDir();
        await LifeboatCatalog.OpenSqliteAsync(dir.Combine("lifeboat.db"), TimeProvider.System, Ct);
        var again = await LifeboatCatalog.OpenSqliteAsync(dir.Combine("lifeboat.db"), TimeProvider.System, Ct);
        Assert.Equal(CatalogMigrations.All.Max(m => m.Version), await again.SchemaVersionAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Jobs_are_upserted_listed_newest_first_by_tenant_and_state_and_interrupted_ones_fail(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            var t0 = DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
            JobRecord Job(string id, string state, int minutes, string tenant = "default") => new()
            {
                Id = id, Tenant = tenant, Kind = "backup", Source = "app", State = state, Actor = "{}", CorrelationId = "c-" + id, Created = t0.AddMinutes(minutes),
            };

            await catalog.UpsertJobAsync(Job("job_1", "queued", 1), Ct);
            await catalog.UpsertJobAsync(Job("job_1", "succeeded", 1) with { Started = t0.AddMinutes(1), Finished = t0.AddMinutes(2), Phase = "backup", Bytes = 500, TotalBytes = 1000, Files = 3, Result = "{\"id\":\"b1\"}" }, Ct);
            await catalog.UpsertJobAsync(Job("job_2", "running", 2) with { Started = t0.AddMinutes(2) }, Ct);
            await catalog.UpsertJobAsync(Job("job_3", "queued", 3), Ct);
            await catalog.UpsertJobAsync(Job("job_4", "running", 4, tenant: "other"), Ct);

            var one = await catalog.JobAsync("default", "job_1", Ct);
            Assert.Equal("succeeded", one!.State);
            Assert.Equal(500, one.Bytes);
            Assert.Equal(1000, one.TotalBytes);
            Assert.Equal(3, one.Files);
            Assert.Equal("{\"id\":\"b1\"}", one.Result);
            Assert.Equal(t0.AddMinutes(2), one.Finished);
            Assert.Null(await catalog.JobAsync("other", "job_1", Ct));

            Assert.Equal(["job_3", "job_2", "job_1"], (await catalog.JobsAsync("default", null, 10, null, Ct)).Select(j => j.Id));
            Assert.Equal(["job_3", "job_2"], (await catalog.JobsAsync("default", null, 2, null, Ct)).Select(j => j.Id));
            Assert.Equal(["job_1"], (await catalog.JobsAsync("default", null, 2, "job_2", Ct)).Select(j => j.Id));
            Assert.Equal(["job_2"], (await catalog.JobsAsync("default", "running", 10, null, Ct)).Select(j => j.Id));

            var finished = t0.AddHours(1);
            Assert.Equal(3, await catalog.FailInterruptedAsync("{\"message\":\"stopped\"}", finished, Ct));
            foreach (var (tenant, id) in new[] { ("default", "job_2"), ("default", "job_3"), ("other", "job_4") })
            {
                var job = await catalog.JobAsync(tenant, id, Ct);
                Assert.Equal("failed", job!.State);
                Assert.Equal(finished, job.Finished);
                Assert.Equal("{\"message\":\"stopped\"}", job.Error);
            }

            Assert.Equal("succeeded", (await catalog.JobAsync("default", "job_1", Ct))!.State);
            Assert.Equal(0, await catalog.FailInterruptedAsync("again", finished, Ct));
        }
    }

    private sealed class Nothing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
