using System.Text;
using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Targets.Local;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Repository.Tests;

public sealed class RepositoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Init_writes_a_key_slot_and_an_authenticated_config_and_open_reads_them_back()
    {
        using var t = new TestRepository();
        await using (var repo = await t.InitAsync())
        {
            Assert.True(repo.Config.IsEncrypted);
            Assert.NotNull(repo.OpenedSlotId);
        }

        Assert.Single(t.Objects("keys/"));
        Assert.True(File.Exists(t.PathOf("config")));
        await using var reopened = await t.OpenAsync();
        Assert.Equal("aes-256-gcm", reopened.Config.Encryption);
        Assert.Equal(3, reopened.Config.Compression.Level);
        Assert.Equal(8192, reopened.BlockSize);
    }

    [Fact]
    public async Task Init_refuses_an_existing_repository()
    {
        using var t = new TestRepository();
        await using (await t.InitAsync())
        {
        }

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => t.InitAsync());
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal($"a repository already exists at file://{t.Root}", ex.Message);
    }

    [Fact]
    public async Task Opening_with_a_wrong_passphrase_fails_with_exit_code_2_and_the_url()
    {
        using var dir = new TempDir();
        var root = dir.Combine("repo");
        await using (await Repo.InitAsync(new LocalTarget(root), new InitOptions { Key = KeyMaterial.FromPassphrase(new Secret("right"), "t") }, TimeProvider.System, null, Ct))
        {
        }

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => Repo.OpenAsync(new LocalTarget(root), () => KeyMaterial.FromPassphrase(new Secret("wrong"), "t"), TimeProvider.System, null, Ct));
        Assert.Equal(ErrorCode.WrongPassphrase, ex.Code);
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal($"wrong passphrase for repository file://{root}", ex.Message);
    }

    [Fact]
    public async Task Opening_a_missing_repository_names_the_place_and_the_fix()
    {
        using var dir = new TempDir();
        var ex = await Assert.ThrowsAsync<LifeboatException>(() => Repo.OpenAsync(new LocalTarget(dir.Combine("nothing")), () => null, TimeProvider.System, null, Ct));
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal($"there is no Lifeboat repository at file://{dir.Combine("nothing")}", ex.Message);
        Assert.Contains("lifeboat repo init", ex.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Opening_an_encrypted_repository_without_a_key_says_how_to_give_one()
    {
        using var t = new TestRepository();
        await using (await t.InitAsync())
        {
        }

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => Repo.OpenAsync(new LocalTarget(t.Root), () => null, TimeProvider.System, null, Ct));
        Assert.Equal(2, ex.ExitCode);
        Assert.Contains("is encrypted and no passphrase or key file was given", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_modified_config_is_detected()
    {
        using var t = new TestRepository();
        await using (await t.InitAsync())
        {
        }

        var config = File.ReadAllText(t.PathOf("config")).Replace("\"level\": 3", "\"level\": 4", StringComparison.Ordinal);
        File.WriteAllText(t.PathOf("config"), config);
        var ex = await Assert.ThrowsAsync<DamageException>(() => t.OpenAsync());
        Assert.Equal(3, ex.ExitCode);
        Assert.Contains("config object", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Switching_a_config_to_unencrypted_is_detected()
    {
        using var t = new TestRepository();
        await using (await t.InitAsync())
        {
        }

        var config = File.ReadAllText(t.PathOf("config")).Replace("\"aes-256-gcm\"", "\"none\"", StringComparison.Ordinal);
        File.WriteAllText(t.PathOf("config"), config);
        await Assert.ThrowsAsync<DamageException>(() => t.OpenAsync());
    }

    [Fact]
    public async Task An_unencrypted_repository_opens_without_a_key_and_still_detects_damage()
    {
        using var t = new TestRepository(encrypted: false);
        Manifest manifest;
        await using (var repo = await t.InitAsync())
        {
            Assert.False(repo.Config.IsEncrypted);
            manifest = await RepoBackups.StoreAsync(repo, "s", RepoBackups.Files(1));
        }

        Assert.Empty(t.Objects("keys/"));
        await using var reopened = await t.OpenAsync();
        var files = await RepoBackups.ReadAsync(reopened, manifest);
        Assert.Equal(RepoBackups.Files(1)["dir0/file0.bin"], files["dir0/file0.bin"]);
    }

    [Fact]
    public async Task A_second_key_opens_the_same_data_and_keys_can_be_removed_but_not_the_last()
    {
        using var t = new TestRepository();
        Manifest manifest;
        string first;
        await using (var repo = await t.InitAsync())
        {
            first = repo.OpenedSlotId!;
            manifest = await RepoBackups.StoreAsync(repo, "s", RepoBackups.Files(2));
            await repo.AddKeyAsync(KeyMaterial.CreateKeyFile(t.Dir.Combine("second.key")), "second", Ct);
            var ex = await Assert.ThrowsAsync<LifeboatException>(() => repo.RemoveKeyAsync(first, Ct));
            Assert.Contains("is the one this command opened the repository with", ex.Message, StringComparison.Ordinal);
        }

        await using (var viaSecond = await Repo.OpenAsync(new LocalTarget(t.Root), () => KeyMaterial.FromKeyFile(t.Dir.Combine("second.key")), TimeProvider.System, null, Ct))
        {
            Assert.Equal(RepoBackups.Files(2)["dir1/file1.bin"], (await RepoBackups.ReadAsync(viaSecond, manifest))["dir1/file1.bin"]);
            await viaSecond.RemoveKeyAsync(first[..8], Ct);
            var last = await Assert.ThrowsAsync<LifeboatException>(() => viaSecond.RemoveKeyAsync(viaSecond.OpenedSlotId!, Ct));
            Assert.Contains("is the last one", last.Message, StringComparison.Ordinal);
        }

        var wrong = await Assert.ThrowsAsync<LifeboatException>(() => t.OpenAsync());
        Assert.Equal(ErrorCode.WrongPassphrase, wrong.Code);
    }

    [Fact]
    public async Task Manifests_are_sealed_so_the_file_names_do_not_appear_in_the_repository()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        await RepoBackups.StoreAsync(repo, "s", new Dictionary<string, byte[]> { ["secret-customer-list.csv"] = TestData.Text(5000, 1) });
        foreach (var name in t.Objects(""))
        {
            var bytes = File.ReadAllBytes(t.PathOf(name));
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("secret-customer-list")) < 0, $"{name} contains a file name in clear");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes("invoice")) < 0 || name == "config", $"{name} contains file content in clear");
        }
    }
}
