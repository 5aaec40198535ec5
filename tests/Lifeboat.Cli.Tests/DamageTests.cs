using System.Text.Json;

namespace Lifeboat.Cli.Tests;

public sealed class DamageTests
{
    private static async Task<(CliFixture F, string Id)> BackedUpAsync()
    {
        var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var id = JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups")[0].GetProperty("id").GetString()!;
        return (f, id);
    }

    private static string LargestPack(string repo)
        => Directory.EnumerateFiles(Path.Combine(repo, "data"), "*", SearchOption.AllDirectories).OrderByDescending(p => new FileInfo(p).Length).First();

    [Fact]
    public async Task A_flipped_byte_makes_verify_read_data_exit_3_naming_the_pack_and_the_backup()
    {
        var (f, id) = await BackedUpAsync();
        using (f)
        {
            var pack = LargestPack(f.RepoPath);
            var bytes = File.ReadAllBytes(pack);
            bytes[bytes.Length / 3] ^= 0x10;
            File.WriteAllBytes(pack, bytes);
            var name = "data/" + Path.GetRelativePath(Path.Combine(f.RepoPath, "data"), pack);

            Assert.Equal(0, (await f.Cli.RunAsync("verify")).ExitCode);
            var verify = await f.Cli.RunAsync("verify", "--read-data");
            Assert.Equal(3, verify.ExitCode);
            Assert.Contains($"lifeboat: damaged: {name}: ", verify.Error, StringComparison.Ordinal);
            Assert.Contains($"affects backups {id}", verify.Error, StringComparison.Ordinal);

            var json = await f.Cli.RunAsync("verify", "--read-data", "--json");
            Assert.Equal(3, json.ExitCode);
            var doc = JsonDocument.Parse(json.Out).RootElement;
            Assert.False(doc.GetProperty("healthy").GetBoolean());
            Assert.Equal(name, doc.GetProperty("damage")[0].GetProperty("object").GetString());
            Assert.Equal(id, doc.GetProperty("affectedBackups")[0].GetString());

            // The event log says so too: verify.damage_found, critical, naming the object and the backup.
            var events = JsonDocument.Parse((await f.Cli.OkAsync("events", "list", "--type", "verify.*", "--json")).Out).RootElement.GetProperty("items");
            var damage = events.EnumerateArray().First(e => e.GetProperty("type").GetString() == "verify.damage_found");
            Assert.Equal("critical", damage.GetProperty("severity").GetString());
            Assert.Equal(name, damage.GetProperty("data").GetProperty("objects")[0].GetString());
            Assert.Equal(id, damage.GetProperty("data").GetProperty("affectedBackups")[0].GetString());
        }
    }

    [Fact]
    public async Task Restoring_a_damaged_backup_exits_3_and_never_leaves_a_silently_wrong_file()
    {
        var (f, _) = await BackedUpAsync();
        using (f)
        {
            var pack = LargestPack(f.RepoPath);
            var bytes = File.ReadAllBytes(pack);
            bytes[bytes.Length / 3] ^= 0x10;
            File.WriteAllBytes(pack, bytes);
            var restore = await f.Cli.RunAsync("restore", "--source", "app", "--to", "r");
            Assert.Equal(3, restore.ExitCode);
            Assert.Contains("is damaged", restore.Error, StringComparison.Ordinal);
            // Whatever was written is correct: no restored file differs from its original.
            foreach (var file in Directory.Exists(f.Dir.Combine("r")) ? Directory.EnumerateFiles(f.Dir.Combine("r"), "*", SearchOption.AllDirectories) : [])
            {
                var relative = Path.GetRelativePath(f.Dir.Combine("r"), file);
                Assert.False(Path.GetFileName(file).StartsWith('.') && file.Contains(".lifeboat-", StringComparison.Ordinal), $"a partial file was left: {relative}");
                Assert.Equal(TestData.Sha256(File.ReadAllBytes(Path.Combine(f.Source, relative))), TestData.Sha256(File.ReadAllBytes(file)));
            }
        }
    }

    [Fact]
    public async Task A_missing_pack_makes_verify_exit_3_and_rebuild_index_does_not_hide_it()
    {
        var (f, id) = await BackedUpAsync();
        using (f)
        {
            File.Delete(LargestPack(f.RepoPath));
            var verify = await f.Cli.RunAsync("verify");
            Assert.Equal(3, verify.ExitCode);
            Assert.Contains("the pack is missing", verify.Error, StringComparison.Ordinal);
            Assert.Contains(id, verify.Error, StringComparison.Ordinal);
            await f.Cli.OkAsync("repo", "rebuild-index");
            Assert.Equal(3, (await f.Cli.RunAsync("verify")).ExitCode);
        }
    }

    [Fact]
    public async Task A_truncated_index_makes_verify_exit_3_and_rebuild_index_repairs_it()
    {
        var (f, id) = await BackedUpAsync();
        using (f)
        {
            var index = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "index")).Single();
            var bytes = File.ReadAllBytes(index);
            File.WriteAllBytes(index, bytes[..(bytes.Length / 2)]);
            var verify = await f.Cli.RunAsync("verify");
            Assert.Equal(3, verify.ExitCode);
            Assert.Contains($"index/{Path.GetFileName(index)}", verify.Error, StringComparison.Ordinal);
            Assert.Contains(id, verify.Error, StringComparison.Ordinal);
            await f.Cli.OkAsync("repo", "rebuild-index");
            await f.Cli.OkAsync("verify", "--read-data");
            await f.Cli.OkAsync("restore", "--source", "app", "--to", "r");
            Assert.Empty(Lifeboat.Engine.Demo.TreeComparer.Compare(f.Source, f.Dir.Combine("r")));
        }
    }

    [Fact]
    public async Task A_manifest_deleted_behind_the_catalogs_back_is_damage_prune_keeps_its_data_and_catalog_rebuild_accepts_the_loss()
    {
        var (f, first) = await BackedUpAsync();
        using (f)
        {
            File.WriteAllBytes(Path.Combine(f.Source, "only-in-the-second.bin"), TestData.Random(300_000, 91));
            await f.Cli.OkAsync("backup", "--source", "app");
            var second = JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray()
                .Select(b => b.GetProperty("id").GetString()!).Single(id => id != first);
            File.Delete(Path.Combine(f.RepoPath, "backups", second));
            string[] Data() => Directory.EnumerateFiles(Path.Combine(f.RepoPath, "data"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
            var before = Data();

            var verify = await f.Cli.RunAsync("verify");
            Assert.Equal(3, verify.ExitCode);
            Assert.Contains($"damaged: backups/{second}: the catalog lists this backup but the repository has no manifest for it", verify.Error, StringComparison.Ordinal);
            Assert.DoesNotContain($"backups/{first}", verify.Error, StringComparison.Ordinal);

            // Prune would delete the data only the second backup needs: refused, exit 3, nothing deleted.
            var prune = await f.Cli.RunAsync("prune");
            Assert.Equal(3, prune.ExitCode);
            Assert.Contains($"prune refused: the catalog lists 1 backup(s) whose manifest is missing from the repository ({second})", prune.Error, StringComparison.Ordinal);
            Assert.Contains("catalog rebuild", prune.Error, StringComparison.Ordinal);
            Assert.Equal(before, Data());
            Assert.Equal(3, (await f.Cli.RunAsync("forget", first, "--prune")).ExitCode);
            Assert.Equal(before, Data());

            // Accepting the loss: the catalog follows the repository, verify passes, prune frees the data.
            await f.Cli.OkAsync("catalog", "rebuild");
            Assert.Contains("no damage found", (await f.Cli.OkAsync("verify")).Out, StringComparison.Ordinal);
            await f.Cli.OkAsync("prune");
            Assert.NotEqual(before, Data());
            await f.Cli.OkAsync("verify", "--read-data");

            // A backup another catalog made is only a note: not damage.
            var other = new CliRunner(f.Dir.Path, new Dictionary<string, string?> { ["LIFEBOAT_PASSPHRASE"] = CliFixture.Passphrase, ["LIFEBOAT__Catalog__Path"] = f.Dir.Combine("other.db") });
            await other.OkAsync("backup", "--source", "app");
            var noted = await f.Cli.OkAsync("verify");
            Assert.Contains("1 backup(s) in the repository are not in the catalog", noted.All, StringComparison.Ordinal);
            await f.Cli.OkAsync("prune");
        }
    }
}
