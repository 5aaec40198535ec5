using System.Text.Json;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Tests.Faults;

/// <summary>
/// A small repository generated once (deterministic content): backup A of source "app" and backup B of source "other"
/// (disjoint content, so their packs, index objects, manifests and trees are their own), a passphrase slot and a key-file
/// slot. Each case starts from a copy of it.
/// </summary>
public sealed class DamageMatrixRepository : IAsyncLifetime
{
    internal CliFixture F { get; } = new();

    public string A { get; private set; } = "";

    public string B { get; private set; } = "";

    /// <summary>Object names (relative to the repository) of A's data pack, A's tree pack and A's index object.</summary>
    public string DataPackA { get; private set; } = "";

    public string TreePackA { get; private set; } = "";

    public string IndexA { get; private set; } = "";

    public string PassphraseSlot { get; private set; } = "";

    public string KeyFileSlot { get; private set; } = "";

    public string Pristine => F.Dir.Combine("pristine");

    /// <summary>Runs with the passphrase only.</summary>
    internal CliRunner Passphrase => new(F.Dir.Path, new Dictionary<string, string?> { ["LIFEBOAT_PASSPHRASE"] = CliFixture.Passphrase });

    public async ValueTask InitializeAsync()
    {
        await F.InitAsync();
        TestData.WriteTree(F.Dir.Combine("other"), 77, files: 8);
        await F.Cli.OkAsync("source", "add-files", "other", "--path", F.Dir.Combine("other"));
        PassphraseSlot = Path.GetFileName(Directory.EnumerateFiles(Path.Combine(F.RepoPath, "keys")).Single());
        await F.Cli.OkAsync("repo", "key", "add", "--new-key-file", "machine.key", "--label", "machine");
        KeyFileSlot = Path.GetFileName(Directory.EnumerateFiles(Path.Combine(F.RepoPath, "keys")).Single(p => Path.GetFileName(p) != PassphraseSlot));

        await F.Cli.OkAsync("backup", "--source", "app");
        var packs = Objects("data");
        var indexes = Objects("index");
        A = await OnlyBackupAsync();
        await F.Cli.OkAsync("backup", "--source", "other");
        B = (await BackupIdsAsync()).Single(id => id != A);
        // A's packs: data packs (one or more: packs are filled in parallel) and one tree pack, a few KiB for this tree.
        long Size(string p) => new FileInfo(Path.Combine(F.RepoPath, p)).Length;
        var ofA = packs.OrderByDescending(Size).ToList();
        Assert.True(ofA.Count >= 2 && Size(ofA[^1]) < 64 << 10 && Size(ofA[^2]) > 64 << 10, string.Join(", ", ofA.Select(p => $"{p} {Size(p)}")));
        (DataPackA, TreePackA) = (ofA[0], ofA[^1]);
        IndexA = indexes.Single();

        // The cases run with the key file (a fast key derivation); the passphrase's slot is one of the objects damaged.
        F.Cli.Environment.Remove("LIFEBOAT_PASSPHRASE");
        F.Cli.Environment["LIFEBOAT__Repository__KeyFile"] = F.Dir.Combine("machine.key");
        CopyDirectory(F.RepoPath, Path.Combine(Pristine, "repo"));
        foreach (var db in Directory.EnumerateFiles(F.Dir.Path, "lifeboat.db*"))
        {
            File.Copy(db, Path.Combine(Pristine, Path.GetFileName(db)));
        }
    }

    /// <summary>Puts the repository and the catalog back as generated.</summary>
    public void Reset()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(F.RepoPath, recursive: true);
        CopyDirectory(Path.Combine(Pristine, "repo"), F.RepoPath);
        foreach (var db in Directory.EnumerateFiles(F.Dir.Path, "lifeboat.db*"))
        {
            File.Delete(db);
        }

        foreach (var db in Directory.EnumerateFiles(Pristine, "lifeboat.db*"))
        {
            File.Copy(db, Path.Combine(F.Dir.Path, Path.GetFileName(db)));
        }

        foreach (var restored in Directory.EnumerateDirectories(F.Dir.Path, "restored-*"))
        {
            Directory.Delete(restored, recursive: true);
        }
    }

    public async Task<string[]> BackupIdsAsync()
        => JsonDocument.Parse((await F.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray().Select(b => b.GetProperty("id").GetString()!).ToArray();

    private async Task<string> OnlyBackupAsync() => (await BackupIdsAsync()).Single();

    private List<string> Objects(string prefix)
        => Directory.EnumerateFiles(Path.Combine(F.RepoPath, prefix), "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(F.RepoPath, p).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    public ValueTask DisposeAsync()
    {
        F.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The damaged-repository matrix (issue 19; docs/operations/damaged-repository.md, docs/reliability.md): every object kind
/// of a file-tree repository — pack, tree pack, index, manifest, key slot, config, and the catalog against the manifests —
/// damaged four ways (a flipped byte, truncated, deleted, replaced with junk of the same size). Each case asserts the
/// exit codes of `verify` and `verify --read-data`, that the message names the object (and the backup it affects), and that
/// the backup the damage does not touch still restores identical to its source. WAL objects: <see cref="WalDamageMatrixTests"/>.
/// </summary>
public sealed class DamageMatrixTests(DamageMatrixRepository repo) : IClassFixture<DamageMatrixRepository>
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { "pack", "tree", "index", "manifest", "keyslot", "config" })
        {
            foreach (var damage in new[] { "flip", "truncate", "delete", "junk" })
            {
                data.Add(kind, damage);
            }
        }

        data.Add("ownkeyslot", "junk");
        data.Add("catalog", "lost");
        return data;
    }

    private CliFixture F => repo.F;

    private static void Damage(string path, string damage)
    {
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "flip":
                bytes[bytes.Length / 3] ^= 0x04;
                File.WriteAllBytes(path, bytes);
                break;
            case "truncate":
                File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
                break;
            case "delete":
                File.Delete(path);
                break;
            case "junk":
                File.WriteAllBytes(path, TestData.Random(bytes.Length, 4242));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, null);
        }
    }

    private async Task RestoresAsync(string id, string source, CliRunner? cli = null)
    {
        var to = F.Dir.Combine("restored-" + id);
        await (cli ?? F.Cli).OkAsync("restore", "--source", id == repo.A ? "app" : "other", "--backup", id, "--to", to);
        Assert.Empty(TreeComparer.Compare(source, to));
    }

    private static void Exit(int expected, CliResult result, string what) => Assert.True(result.ExitCode == expected, $"{what}: expected exit {expected}\n{result}");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Damage_is_found_named_and_does_not_spread(string kind, string damage)
    {
        repo.Reset();
        var (a, b) = (repo.A, repo.B);
        var other = F.Dir.Combine("other");
        string Path_(string name) => Path.Combine(F.RepoPath, name);
        var flipped = damage == "flip";

        switch (kind)
        {
            case "pack":
            {
                // A data pack: plain verify sees only what the index implies (presence, size); --read-data reads it.
                Damage(Path_(repo.DataPackA), damage);
                var verify = await F.Cli.RunAsync("verify");
                Exit(damage is "flip" or "junk" ? 0 : 3, verify, "verify");
                var read = await F.Cli.RunAsync("verify", "--read-data");
                Exit(3, read, "verify --read-data");
                Assert.Contains($"damaged: {repo.DataPackA}: ", read.Error, StringComparison.Ordinal);
                Assert.Contains(damage == "delete" ? "the pack is missing" : "", read.Error, StringComparison.Ordinal);
                Assert.Contains($"affects backups {a}", read.Error, StringComparison.Ordinal);
                Assert.DoesNotContain(b, read.Error, StringComparison.Ordinal);
                Exit(3, await F.Cli.RunAsync("restore", "--source", "app", "--backup", a, "--to", F.Dir.Combine("restored-a")), "restore of the damaged backup");
                await RestoresAsync(b, other);
                break;
            }

            case "tree":
            {
                // A tree pack: plain verify reads every tree chunk, so any damage is found without --read-data.
                Damage(Path_(repo.TreePackA), damage);
                foreach (var args in new[] { new[] { "verify" }, ["verify", "--read-data"] })
                {
                    var verify = await F.Cli.RunAsync(args);
                    Exit(3, verify, string.Join(' ', args));
                    Assert.Contains(repo.TreePackA, verify.Error, StringComparison.Ordinal);
                    Assert.Contains(a, verify.Error, StringComparison.Ordinal);
                    Assert.DoesNotContain(b, verify.Error, StringComparison.Ordinal);
                }

                await RestoresAsync(b, other);
                break;
            }

            case "index":
            {
                Damage(Path_(repo.IndexA), damage);
                var verify = await F.Cli.RunAsync("verify");
                Exit(3, verify, "verify");
                Assert.Contains(damage == "delete" ? $"backups/{a}: " : repo.IndexA, verify.Error, StringComparison.Ordinal);
                if (damage == "delete")
                {
                    Assert.Contains("chunk(s) it needs are not in the index", verify.Error, StringComparison.Ordinal);
                }

                Assert.Contains(a, verify.Error, StringComparison.Ordinal);
                Assert.DoesNotContain(b, verify.Error, StringComparison.Ordinal);
                await RestoresAsync(b, other);
                // The runbook's repair: rebuild-index from the packs' own headers; then everything verifies and restores.
                await F.Cli.OkAsync("repo", "rebuild-index");
                await F.Cli.OkAsync("verify", "--read-data");
                await RestoresAsync(a, F.Source);
                break;
            }

            case "manifest":
            {
                Damage(Path_("backups/" + a), damage);
                var verify = await F.Cli.RunAsync("verify");
                Exit(3, verify, "verify");
                Assert.Contains(
                    damage == "delete" ? $"damaged: backups/{a}: the catalog lists this backup but the repository has no manifest for it" : $"damaged: backups/{a}",
                    verify.Error,
                    StringComparison.Ordinal);
                Assert.DoesNotContain(b, verify.Error, StringComparison.Ordinal);
                Exit(3, await F.Cli.RunAsync("prune"), "prune with a damaged or missing manifest");
                await RestoresAsync(b, other);
                break;
            }

            case "keyslot":
            {
                // The passphrase slot damaged; the key-file slot (what the runs use) opens the repository.
                var slot = "keys/" + repo.PassphraseSlot;
                if (flipped)
                {
                    // A flipped byte inside `wrapped` cannot be told from a slot of another key: it decodes, and opens nothing.
                    var json = File.ReadAllText(Path_(slot));
                    var at = json.IndexOf("\"wrapped\"", StringComparison.Ordinal) + 20;
                    File.WriteAllText(Path_(slot), json[..at] + (json[at] == 'A' ? 'B' : 'A') + json[(at + 1)..]);
                }
                else
                {
                    Damage(Path_(slot), damage);
                }

                var verify = await F.Cli.RunAsync("verify", "--read-data");
                var viaPassphrase = await repo.Passphrase.RunAsync("list");
                if (damage is "truncate" or "junk")
                {
                    Exit(3, verify, "verify --read-data");
                    Assert.Contains($"keys/{repo.PassphraseSlot}", verify.Error, StringComparison.Ordinal);
                    Exit(3, viaPassphrase, "list with the damaged slot's passphrase");
                    Assert.Contains($"key slot {repo.PassphraseSlot} is damaged", viaPassphrase.Error, StringComparison.Ordinal);
                    Assert.DoesNotContain("wrong", viaPassphrase.Error, StringComparison.Ordinal);
                }
                else
                {
                    // Deleted: a revoked key, not damage. Altered `wrapped`: indistinguishable from another key's slot.
                    Exit(0, verify, "verify --read-data");
                    Exit(2, viaPassphrase, "list with the passphrase whose slot is gone or altered");
                }

                await RestoresAsync(a, F.Source);
                await RestoresAsync(b, other);
                break;
            }

            case "ownkeyslot":
            {
                // The slot the key file opens is junk: "damaged", not "wrong key"; the passphrase still opens everything.
                Damage(Path_("keys/" + repo.KeyFileSlot), damage);
                var verify = await F.Cli.RunAsync("verify");
                Exit(3, verify, "verify with the key file");
                Assert.Contains($"key slot {repo.KeyFileSlot} is damaged", verify.Error, StringComparison.Ordinal);
                Assert.DoesNotContain("wrong", verify.Error, StringComparison.Ordinal);
                var passphraseVerify = await repo.Passphrase.RunAsync("verify");
                Exit(3, passphraseVerify, "verify with the passphrase (the other slot is damage)");
                Assert.Contains($"keys/{repo.KeyFileSlot}", passphraseVerify.Error, StringComparison.Ordinal);
                await RestoresAsync(b, other, repo.Passphrase);
                break;
            }

            case "config":
            {
                Damage(Path_("config"), damage);
                var verify = await F.Cli.RunAsync("verify");
                // No backup can be read without a sound config: every command fails, naming the config object. A config
                // whose MAC fails is damage (exit 3); one that is not JSON, or none, cannot be told from "not a repository"
                // (exit 2, as a wrong URL).
                Exit(damage == "flip" ? 3 : 2, verify, "verify");
                Assert.Contains(
                    damage switch
                    {
                        "flip" => "was modified",
                        "delete" => "there is no Lifeboat repository at",
                        _ => "has a config object that is not valid JSON",
                    },
                    verify.Error,
                    StringComparison.Ordinal);
                Assert.NotEqual(0, (await F.Cli.RunAsync("restore", "--source", "other", "--backup", b, "--to", F.Dir.Combine("restored-b"))).ExitCode);
                break;
            }

            case "catalog":
            {
                // The catalog lost: the repository is the source of truth; verify notes the backups the catalog lacks, and
                // catalog rebuild brings them back. (In its own process: the test process keeps the deleted catalog open.)
                foreach (var db in Directory.EnumerateFiles(F.Dir.Path, "lifeboat.db*"))
                {
                    File.Delete(db);
                }

                var verify = await LifeboatProcess.RunAsync(F.Dir.Path, F.Cli.Environment, ["verify", "--read-data"], TimeSpan.FromMinutes(2));
                Exit(0, verify, "verify --read-data without a catalog");
                Assert.Contains("2 backup(s) in the repository are not in the catalog", verify.All, StringComparison.Ordinal);
                Exit(0, await LifeboatProcess.RunAsync(F.Dir.Path, F.Cli.Environment, ["catalog", "rebuild"], TimeSpan.FromMinutes(2)), "catalog rebuild");
                var list = await LifeboatProcess.RunAsync(F.Dir.Path, F.Cli.Environment, ["list", "--json"], TimeSpan.FromMinutes(2));
                Assert.Equal(
                    new[] { a, b }.Order(StringComparer.Ordinal),
                    JsonDocument.Parse(list.Out).RootElement.GetProperty("backups").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }
}
