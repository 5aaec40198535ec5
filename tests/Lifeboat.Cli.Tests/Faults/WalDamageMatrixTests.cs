using System.Text.Json;

namespace Lifeboat.Cli.Tests.Faults;

/// <summary>
/// The damaged-repository matrix for WAL objects (docs/operations/damaged-repository.md): an archived segment between two
/// backups flipped, truncated, deleted and replaced with junk. verify (--read-data for content damage) exits 3 naming the
/// segment and the earlier backup, never the later one, and the later backup still restores.
/// </summary>
public sealed class WalDamageMatrixTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_damaged_wal_object_is_found_named_with_the_backups_it_affects_and_a_later_backup_still_restores()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int primary key); insert into t select generate_series(1, 1000)");
        await f.OkAsync("backup", "--source", "db", "--type", "full");
        await f.ExecAsync("insert into t select generate_series(1001, 2000)");
        var segment = await f.QueryAsync<string>("select pg_walfile_name(pg_current_wal_lsn())");
        await f.SwitchAndWaitForArchiveAsync();
        await f.ExecAsync("insert into t select generate_series(2001, 3000)");
        await f.OkAsync("backup", "--source", "db", "--type", "full");
        var digest = await ClusterFixture.DigestAsync(f.Cluster, "t", "id");
        await f.SwitchAndWaitForArchiveAsync();
        var ids = JsonDocument.Parse((await f.OkAsync("list", "--source", "db", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray()
            .Select(b => b.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToArray();
        var (before, after) = (ids[0], ids[1]);
        await f.OkAsync("verify", "--read-data");

        var path = f.ArchivePathOf(segment);
        var name = "wal/" + Path.GetRelativePath(Path.Combine(f.RepoPath, "wal"), path);
        var original = File.ReadAllBytes(path);
        foreach (var damage in new[] { "flip", "truncate", "delete", "junk" })
        {
            switch (damage)
            {
                case "flip":
                    var flipped = (byte[])original.Clone();
                    flipped[flipped.Length / 2] ^= 0x01;
                    File.WriteAllBytes(path, flipped);
                    break;
                case "truncate":
                    File.WriteAllBytes(path, original[..(original.Length / 2)]);
                    break;
                case "delete":
                    File.Delete(path);
                    break;
                default:
                    File.WriteAllBytes(path, TestData.Random(original.Length, 7));
                    break;
            }

            var verify = await f.RunAsync("verify");
            var read = await f.RunAsync("verify", "--read-data");
            if (damage == "delete")
            {
                // A gap: found without reading data.
                Assert.True(verify.ExitCode == 3, $"{damage}: verify\n{verify}");
                Assert.Contains($"damaged: {name}: WAL segment {segment} is missing, but ", verify.Error, StringComparison.Ordinal);
                Assert.Contains(before, verify.Error, StringComparison.Ordinal);
                Assert.DoesNotContain(after, verify.Error, StringComparison.Ordinal);
            }
            else
            {
                // Content damage: plain verify does not read WAL objects; --read-data does.
                Assert.True(verify.ExitCode == 0, $"{damage}: verify (no data read)\n{verify}");
                Assert.True(read.ExitCode == 3, $"{damage}: verify --read-data\n{read}");
                Assert.Contains($"damaged: {name}: ", read.Error, StringComparison.Ordinal);
                Assert.Contains($"archived WAL file", read.Error, StringComparison.Ordinal);
                Assert.Contains(before, read.Error, StringComparison.Ordinal);
                Assert.DoesNotContain(after, read.Error, StringComparison.Ordinal);
                var fetch = await f.RunAsync("wal-fetch", segment, f.Dir.Combine("fetched"));
                Assert.True(fetch.ExitCode == 131, $"{damage}: wal-fetch of the damaged segment stops recovery (exit 131)\n{fetch}");
            }

            Assert.True(read.ExitCode == 3, $"{damage}: verify --read-data\n{read}");
            if (damage == "flip")
            {
                // The backup taken after the damage is unaffected: restored to its own end, it has every row it had.
                var target = f.NewDirectory("restored-after");
                await f.OkAsync("restore", "--source", "db", "--backup", after, "--to", target, "--archive-mode", "off", "--target", "immediate");
                var restored = await f.StartRestoredAsync(target);
                Assert.Equal(digest, await ClusterFixture.DigestAsync(restored, "t", "id"));
                await restored.StopAsync(Ct);
            }

            File.WriteAllBytes(path, original);
        }

        await f.OkAsync("verify", "--read-data");
    }
}
