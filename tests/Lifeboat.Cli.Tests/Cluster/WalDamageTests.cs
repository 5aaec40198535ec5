using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// A damaged or missing WAL object (issue 19, item 1): verify finds it, wal-fetch makes recovery stop there instead of
/// taking it for the end of the archive, and a restore or drill that recovers past it fails instead of succeeding short.
/// </summary>
public sealed class WalDamageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_damaged_wal_segment_is_found_by_verify_stops_recovery_and_fails_the_restore_and_the_drill()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int primary key); insert into t select generate_series(1, 10)");
        await f.OkAsync("backup", "--source", "db", "--type", "full");
        var backup = JsonDocument.Parse((await f.OkAsync("list", "--source", "db", "--json")).Out).RootElement.GetProperty("backups")[0].GetProperty("id").GetString()!;
        await f.ExecAsync("insert into t select generate_series(11, 20)");
        var damagedSegment = await f.QueryAsync<string>("select pg_walfile_name(pg_current_wal_lsn())");
        await f.SwitchAndWaitForArchiveAsync();
        // A time after the damaged segment and before the last commit (a time after the last commit cannot be reached at all).
        var afterDamage = Lifeboat.Core.TimeParsing.ToPostgres(await f.QueryAsync<DateTime>("select clock_timestamp()"));
        await f.ExecAsync("insert into t select generate_series(21, 30)");
        await f.SwitchAndWaitForArchiveAsync();
        await f.OkAsync("verify", "--read-data");

        // One byte flipped in the archived segment holding rows 11-20.
        var path = f.ArchivePathOf(damagedSegment);
        var objectName = "wal/" + Path.GetRelativePath(Path.Combine(f.RepoPath, "wal"), path);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var verify = await f.RunAsync("verify", "--read-data");
        Assert.True(verify.ExitCode == 3, verify.ToString());
        Assert.Contains($"damaged: {objectName}", verify.Error, StringComparison.Ordinal);
        Assert.Contains(backup, verify.Error, StringComparison.Ordinal);

        // wal-fetch: not "not there" (exit 1, which ends recovery and promotes), but above 125, which stops recovery.
        var fetched = f.Dir.Combine("fetched");
        var fetch = await f.RunAsync("wal-fetch", damagedSegment, fetched);
        Assert.True(fetch.ExitCode == 131, fetch.ToString());
        Assert.Contains($"WAL file {damagedSegment} is archived but damaged", fetch.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(fetched));

        // An object-level restore to the end of the archive: recovery stops at the damage, the restore fails, nothing is created.
        var scratch = f.Dir.Dir("restore-scratch");
        var restore = await f.RunAsync("restore", "--source", "db", "--database", "postgres", "--into", "copy", "--scratch", scratch);
        Assert.True(restore.ExitCode != 0, restore.ToString());
        Assert.Contains(damagedSegment, restore.Error, StringComparison.Ordinal);
        Assert.False(await f.QueryAsync<bool>("select exists (select from pg_database where datname = 'copy')"));

        // A drill to a time after the damage fails at recovery; it does not fall back to the point reached.
        var root = JsonNode.Parse(File.ReadAllText(f.ConfigPath))!.AsObject();
        root["Drill"] = new JsonObject { ["ScratchDirectory"] = f.Dir.Dir("drill-scratch"), ["ReportsDirectory"] = f.Dir.Combine("reports"), ["Timeout"] = "00:05:00" };
        File.SetUnixFileMode(f.Dir.Combine("drill-scratch"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(f.ConfigPath, root.ToJsonString());
        var drill = await f.RunAsync("drill", "--source", "db", "--target-time", afterDamage, "--json");
        Assert.True(drill.ExitCode != 0, drill.ToString());
        var recovery = JsonDocument.Parse(drill.Out).RootElement.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("name").GetString() == "recovery");
        Assert.Equal("failed", recovery.GetProperty("status").GetString());

        // The segment gone altogether: plain verify (no data read) finds the gap before archived WAL.
        File.Delete(path);
        var gap = await f.RunAsync("verify");
        Assert.True(gap.ExitCode == 3, gap.ToString());
        Assert.Contains($"WAL segment {damagedSegment} is missing, but ", gap.Error, StringComparison.Ordinal);
    }
}
