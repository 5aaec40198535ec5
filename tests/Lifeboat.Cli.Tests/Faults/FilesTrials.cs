using System.Text.Json;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Tests.Faults;

/// <summary>
/// A file-tree source and its repository for kill trials: the source changes between trials, every completed backup is
/// restored once and compared with the source (that restored copy is then its reference), and later restores are compared
/// with the reference.
/// </summary>
internal sealed class FilesTrials : IDisposable
{
    private readonly Dictionary<string, string> _references = new(StringComparer.Ordinal);
    private int _mutations;

    public FilesTrials(FaultRun run)
    {
        Run = run;
        F = new CliFixture(withTree: false);
        TestData.WriteTree(F.Source, run.Seed, files: 12);
        for (var i = 0; i < 4; i++)
        {
            File.WriteAllBytes(Path.Combine(F.Source, $"big{i}.bin"), i % 2 == 0 ? TestData.Random(2 << 20, run.Seed + i) : TestData.Text(2 << 20, run.Seed + i));
        }
    }

    public FaultRun Run { get; }

    public CliFixture F { get; }

    /// <summary>The environment of the killed process: the same passphrase and settings as the in-process runs.</summary>
    public Dictionary<string, string?> Environment => new(F.Cli.Environment);

    public IReadOnlyCollection<string> Backups => _references.Keys;

    public async Task InitAsync()
    {
        await F.InitAsync("--pack-size", "1MiB");
    }

    public Task<KillOutcome> KilledAsync(string operation, KillPlan plan, params string[] args)
        => Run.RunAsync(operation, plan, F.Dir.Path, Environment, args);

    /// <summary>Changes the source a little, as an application does: a block of a big file, a new file, a deleted one.</summary>
    public void Mutate()
    {
        var r = Run.Random;
        var n = ++_mutations;
        var big = Path.Combine(F.Source, $"big{r.Next(4)}.bin");
        using (var file = new FileStream(big, FileMode.Open, FileAccess.Write))
        {
            file.Seek(r.Next((int)file.Length - 300_000), SeekOrigin.Begin);
            file.Write(TestData.Random(200_000 + r.Next(100_000), Run.Seed * 1000 + n));
        }

        File.WriteAllBytes(Path.Combine(F.Source, $"new{n}.dat"), TestData.Text(r.Next(1, 400_000), Run.Seed + n));
        var small = Directory.EnumerateFiles(F.Source, "new*.dat").Order(StringComparer.Ordinal).ToList();
        if (small.Count > 3)
        {
            File.Delete(small[r.Next(small.Count)]);
        }
    }

    public async Task<string[]> ListAsync(CliRunner? cli = null)
    {
        var list = await (cli ?? F.Cli).OkAsync("list", "--json");
        return JsonDocument.Parse(list.Out).RootElement.GetProperty("backups").EnumerateArray().Select(b => b.GetProperty("id").GetString()!).ToArray();
    }

    /// <summary>A backup taken in-process (setting up a trial, not interrupted): it must succeed.</summary>
    public async Task BackupAsync(string where)
    {
        var backup = await F.Cli.RunAsync("backup", "--source", "app");
        Assert.True(backup.ExitCode == 0, $"{where}: the next backup failed:\n{backup}");
        await AdoptNewAsync(where);
    }

    /// <summary>Drops backups the repository no longer lists (expired) from the tally.</summary>
    public async Task ForgetGoneAsync()
    {
        foreach (var id in _references.Keys.Except(await ListAsync()).ToList())
        {
            Forget(id);
        }
    }

    public void Forget(string id)
    {
        if (_references.Remove(id, out var dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The checks after a trial: verify --read-data passes, no completed backup went missing (unless
    /// <paramref name="mayExpire"/>), every new backup restores identical to the source, every older one (when
    /// <paramref name="restoreAll"/>) identical to its first restore, and the next backup succeeds.
    /// </summary>
    public async Task CheckAsync(string where, bool restoreAll, bool mayExpire = false, CliRunner? restoreFrom = null)
    {
        var verify = await F.Cli.RunAsync("verify", "--read-data");
        Assert.True(verify.ExitCode == 0, $"{where}: verify --read-data after the kill:\n{verify}");
        Assert.DoesNotContain("damaged", verify.Error, StringComparison.Ordinal);

        var listed = await ListAsync();
        var gone = _references.Keys.Except(listed).ToList();
        if (!mayExpire)
        {
            Assert.True(gone.Count == 0, $"{where}: completed backup(s) {string.Join(", ", gone)} are gone");
        }

        foreach (var id in gone)
        {
            Forget(id);
        }

        await AdoptNewAsync(where);
        if (restoreAll)
        {
            await RestoreAllAsync(where, restoreFrom);
        }

        Mutate();
        await BackupAsync(where);
    }

    /// <summary>Restores every known backup (from <paramref name="cli"/>'s repository) and compares it with its reference.</summary>
    public async Task RestoreAllAsync(string where, CliRunner? cli = null)
    {
        cli ??= F.Cli;
        foreach (var (id, reference) in _references)
        {
            var scratch = F.Dir.Combine("scratch-" + id);
            var restore = await cli.RunAsync("restore", "--source", "app", "--backup", id, "--to", scratch);
            Assert.True(restore.ExitCode == 0, $"{where}: restore of backup {id} failed:\n{restore}");
            var differences = TreeComparer.Compare(reference, scratch);
            Assert.True(differences.Count == 0, $"{where}: backup {id} restores differently from its first restore:\n{string.Join('\n', differences.Take(10))}");
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Backups the repository has and this tally does not: taken of the source as it is now; restored and compared.</summary>
    private async Task AdoptNewAsync(string where)
    {
        foreach (var id in (await ListAsync()).Where(id => !_references.ContainsKey(id)))
        {
            var dir = F.Dir.Combine("refs", id);
            var restore = await F.Cli.RunAsync("restore", "--source", "app", "--backup", id, "--to", dir);
            Assert.True(restore.ExitCode == 0, $"{where}: restore of the new backup {id} failed:\n{restore}");
            var differences = TreeComparer.Compare(F.Source, dir);
            Assert.True(differences.Count == 0, $"{where}: backup {id} does not restore identical to its source:\n{string.Join('\n', differences.Take(10))}");
            _references[id] = dir;
        }
    }

    public void Dispose() => F.Dispose();
}
