using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Repository.Tests;

/// <summary>Damaged repositories: every kind of damage is found, named, and attributed to the backups it affects.</summary>
public sealed class VerifyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Two backups: A (files 1) and B (files 2, sharing nothing with A), in small packs.</summary>
    private static async Task<(TestRepository T, Manifest A, Manifest B)> TwoBackupsAsync()
    {
        var t = new TestRepository();
        await using var repo = await t.InitAsync(new InitOptions { PackSize = 1 << 20 });
        var a = await RepoBackups.StoreAsync(repo, "a", RepoBackups.Files(100, 3));
        var b = await RepoBackups.StoreAsync(repo, "b", RepoBackups.Files(200, 3));
        return (t, a, b);
    }

    private static async Task<string> PackOfAsync(TestRepository t, Manifest m, string path)
    {
        await using var repo = await t.OpenAsync();
        var index = await repo.LoadIndexAsync(Ct);
        using var reader = new Reading.ChunkReader(repo, index);
        await foreach (var e in Trees.TreeReader.ReadAsync(reader, m, Ct))
        {
            if (e.Path == path)
            {
                return ObjectNames.Pack(index.PackOf(e.Chunks![0])!.Value.PackId);
            }
        }

        throw new InvalidOperationException("no such path");
    }

    private static async Task<VerifyReport> VerifyAsync(TestRepository t, bool readData)
    {
        await using var repo = await t.OpenAsync();
        return await new Verifier(repo).VerifyAsync(new VerifyOptions { ReadData = readData }, null, Ct);
    }

    [Fact]
    public async Task A_sound_repository_verifies_with_and_without_reading_data()
    {
        var (t, _, _) = await TwoBackupsAsync();
        using (t)
        {
            var quick = await VerifyAsync(t, false);
            Assert.True(quick.IsHealthy);
            Assert.Equal(2, quick.Backups);
            var full = await VerifyAsync(t, true);
            Assert.True(full.IsHealthy, string.Join("\n", full.Damage));
            Assert.Equal(full.Packs, full.PacksRead);
        }
    }

    [Fact]
    public async Task A_flipped_byte_in_a_pack_is_found_by_read_data_and_names_the_pack_and_only_the_backup_that_uses_it()
    {
        var (t, a, b) = await TwoBackupsAsync();
        using (t)
        {
            var pack = await PackOfAsync(t, a, "dir0/file0.bin");
            var bytes = File.ReadAllBytes(t.PathOf(pack));
            bytes[100] ^= 0x40;
            File.WriteAllBytes(t.PathOf(pack), bytes);

            Assert.True((await VerifyAsync(t, false)).IsHealthy, "a flipped byte does not change the size: the structure check passes");
            var report = await VerifyAsync(t, true);
            var damage = Assert.Single(report.Damage);
            Assert.Equal(pack, damage.Object);
            Assert.Equal([a.Id], damage.AffectedBackups);
            Assert.DoesNotContain(b.Id, report.AffectedBackups);
        }
    }

    [Fact]
    public async Task Restoring_a_backup_with_a_damaged_chunk_fails_loudly_instead_of_returning_wrong_data()
    {
        var (t, a, b) = await TwoBackupsAsync();
        using (t)
        {
            var pack = await PackOfAsync(t, a, "dir0/file0.bin");
            var bytes = File.ReadAllBytes(t.PathOf(pack));
            bytes[100] ^= 0x40;
            File.WriteAllBytes(t.PathOf(pack), bytes);
            await using var repo = await t.OpenAsync();
            var ex = await Assert.ThrowsAsync<DamageException>(() => RepoBackups.ReadAsync(repo, a));
            Assert.Contains(pack, ex.Message, StringComparison.Ordinal);
            Assert.Equal(3, ex.ExitCode);
            Assert.Equal(RepoBackups.Files(200, 3)["dir0/file0.bin"], (await RepoBackups.ReadAsync(repo, b))["dir0/file0.bin"]);
        }
    }

    [Fact]
    public async Task A_missing_pack_is_found_by_the_structure_check_with_every_affected_backup()
    {
        var (t, a, _) = await TwoBackupsAsync();
        using (t)
        {
            var pack = await PackOfAsync(t, a, "dir1/file1.bin");
            File.Delete(t.PathOf(pack));
            var report = await VerifyAsync(t, false);
            var damage = Assert.Single(report.Damage, d => d.Object == pack);
            Assert.Equal("the pack is missing", damage.Problem);
            Assert.Contains(a.Id, damage.AffectedBackups);
        }
    }

    [Fact]
    public async Task A_truncated_index_object_is_reported_with_the_backups_whose_chunks_it_listed()
    {
        var (t, a, b) = await TwoBackupsAsync();
        using (t)
        {
            // Each backup wrote its own index object; truncate the one written by backup B.
            var indexes = t.Objects("index/").Select(n => (Name: n, Time: File.GetLastWriteTimeUtc(t.PathOf(n)))).OrderBy(x => x.Time).ToList();
            var last = indexes[^1].Name;
            var bytes = File.ReadAllBytes(t.PathOf(last));
            File.WriteAllBytes(t.PathOf(last), bytes[..(bytes.Length / 2)]);
            var report = await VerifyAsync(t, false);
            var damage = Assert.Single(report.Damage, d => d.Object == last);
            Assert.Contains("does not match its name", damage.Problem, StringComparison.Ordinal);
            Assert.Contains(b.Id, damage.AffectedBackups);
            Assert.DoesNotContain(a.Id, damage.AffectedBackups);
            Assert.Contains(report.Damage, d => d.Object == ObjectNames.Backup(b.Id));
        }
    }

    [Fact]
    public async Task Rebuilding_the_index_from_the_packs_repairs_a_lost_index()
    {
        var (t, a, b) = await TwoBackupsAsync();
        using (t)
        {
            foreach (var name in t.Objects("index/"))
            {
                File.Delete(t.PathOf(name));
            }

            Assert.False((await VerifyAsync(t, false)).IsHealthy);
            await using (var repo = await t.OpenAsync())
            {
                var report = await new IndexRebuilder(repo).RebuildAsync(null, Ct);
                Assert.Equal(0, report.DamagedPacks);
            }

            Assert.True((await VerifyAsync(t, true)).IsHealthy);
            await using var reopened = await t.OpenAsync();
            Assert.Equal(RepoBackups.Files(100, 3)["dir1/file1.bin"], (await RepoBackups.ReadAsync(reopened, a))["dir1/file1.bin"]);
            Assert.Equal(RepoBackups.Files(200, 3)["dir1/file1.bin"], (await RepoBackups.ReadAsync(reopened, b))["dir1/file1.bin"]);
        }
    }

    [Fact]
    public async Task A_damaged_manifest_is_reported_as_damage_of_that_backup()
    {
        var (t, a, _) = await TwoBackupsAsync();
        using (t)
        {
            var path = t.PathOf(ObjectNames.Backup(a.Id));
            var bytes = File.ReadAllBytes(path);
            bytes[^3] ^= 1;
            File.WriteAllBytes(path, bytes);
            var report = await VerifyAsync(t, false);
            var damage = Assert.Single(report.Damage);
            Assert.Equal(ObjectNames.Backup(a.Id), damage.Object);
            Assert.Equal([a.Id], damage.AffectedBackups);
        }
    }

    [Fact]
    public async Task Packs_left_by_an_interrupted_backup_are_a_note_not_damage()
    {
        var (t, _, _) = await TwoBackupsAsync();
        using (t)
        {
            // An orphan pack: a copy of a real pack under another valid name, in no index.
            var pack = t.Objects("data/").First();
            var orphanId = new string('a', 64);
            Directory.CreateDirectory(t.PathOf("data/aa"));
            File.Copy(t.PathOf(pack), t.PathOf($"data/aa/{orphanId}"));
            var report = await VerifyAsync(t, false);
            Assert.True(report.IsHealthy);
            Assert.Contains(report.Notes, n => n.Contains("not in the index", StringComparison.Ordinal));
        }
    }
}
