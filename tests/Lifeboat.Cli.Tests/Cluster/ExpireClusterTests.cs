using System.Text.Json;

namespace Lifeboat.Cli.Tests.Cluster;

public sealed class ExpireClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Expire_removes_old_backups_and_the_wal_only_they_needed_and_the_kept_backup_still_restores()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int)");
        for (var i = 0; i < 3; i++)
        {
            await f.ExecAsync($"insert into t select generate_series({i * 100 + 1}, {(i + 1) * 100})");
            await f.OkAsync("backup", "--source", "db");
            await f.SwitchAndWaitForArchiveAsync();
        }

        var walBefore = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "wal"), "0*", SearchOption.AllDirectories).Where(p => Path.GetFileName(p).Length == 24).Order().ToList();
        File.WriteAllText(f.ConfigPath, File.ReadAllText(f.ConfigPath).Replace("\"SystemIdentifier\"", "\"Retention\": { \"KeepLast\": 1 }, \"SystemIdentifier\"", StringComparison.Ordinal));
        var dry = JsonDocument.Parse((await f.OkAsync("expire", "--dry-run", "--json")).Out).RootElement.GetProperty("sources")[0];
        Assert.Equal(2, dry.GetProperty("decisions").EnumerateArray().Count(d => !d.GetProperty("keep").GetBoolean()));
        Assert.True(dry.GetProperty("wal").GetProperty("deleted").GetInt32() > 0);

        var expire = await f.OkAsync("expire");
        Assert.Contains("deleted", expire.Out, StringComparison.Ordinal);
        var walAfter = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "wal"), "0*", SearchOption.AllDirectories).Where(p => Path.GetFileName(p).Length == 24).Order().ToList();
        Assert.True(walAfter.Count < walBefore.Count, $"{walBefore.Count} WAL segments before, {walAfter.Count} after");
        var list = JsonDocument.Parse((await f.OkAsync("list", "--json")).Out).RootElement;
        Assert.Equal(1, list.GetProperty("backups").GetArrayLength());
        await f.OkAsync("verify");

        var target = f.NewDirectory("restored");
        await f.OkAsync("restore", "--source", "db", "--to", target, "--archive-mode", "off");
        var restored = await f.StartRestoredAsync(target);
        Assert.Equal(300L, await restored.QueryAsync<long>("select count(*) from t", Ct));
    }
}
