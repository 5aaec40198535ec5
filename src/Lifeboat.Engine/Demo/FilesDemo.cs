using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Platform;
using Lifeboat.Repository.Crypto;
using Lifeboat.Targets;
using Microsoft.Extensions.DependencyInjection;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Demo;

/// <summary>
/// The file-tree demo: a sample application tree backed up into a fresh encrypted repository, changed, backed up again,
/// verified, restored elsewhere and compared byte for byte and by metadata. Nothing outside a temp directory is touched.
/// </summary>
public sealed class FilesDemo
{
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;

    public FilesDemo(IServiceScopeFactory scopes, TimeProvider time)
    {
        _scopes = scopes;
        _time = time;
    }

    public async Task<bool> RunAsync(bool keep, Action<string> print, CancellationToken cancellationToken)
    {
        var time = _time;
        var root = Directory.CreateTempSubdirectory("lifeboat-demo-").FullName;
        var total = Stopwatch.StartNew();
        try
        {
            var sample = Path.Combine(root, "app-uploads");
            var repoDir = Path.Combine(root, "repository");
            var restored = Path.Combine(root, "restored");
            // The demo works in a workspace of its own (its own configuration, repository and catalog).
            using var scope = _scopes.CreateScope();
            var workspace = new Workspace(ConfigFile.Resolve(Path.Combine(root, "lifeboat.json"), new Dictionary<string, string?>(), root), new Dictionary<string, string?>(), root);
            scope.ServiceProvider.GetRequiredService<CallContext>().Workspace = workspace;
            T Use<T>()
                where T : notnull => scope.ServiceProvider.GetRequiredService<T>();

            print($"Lifeboat demo in {root}");
            await Step(print, "1. create a sample application tree (uploads, config, logs)", () =>
            {
                var (files, bytes) = CreateSample(sample);
                return Task.FromResult($"{files} files, {ByteSize.Format(bytes)}, with an empty directory, a symlink and modes 0600/0755");
            });

            await Step(print, "2. create an encrypted repository (AES-256-GCM, key file)", async () =>
            {
                var keyFile = Path.Combine(root, "repository.key");
                var key = KeyMaterial.CreateKeyFile(keyFile);
                await using var repository = await Repo.InitAsync(TargetFactory.Open("file://" + repoDir), new Lifeboat.Repository.InitOptions { Key = key }, time, null, cancellationToken);
                workspace.EditConfig(config =>
                {
                    ConfigFile.Section(config, "Repository")["Url"] = "file://" + repoDir;
                    ConfigFile.Section(config, "Repository")["KeyFile"] = keyFile;
                    ConfigFile.Section(config, "Sources")["uploads"] = ConfigJson.Section(new FilesSourceOptions { Path = sample });
                });
                return $"{repository.DisplayName}, key slot {repository.OpenedSlotId![..8]}";
            });

            BackupSourceResult? first = null;
            await Step(print, "3. back up the tree (full)", async () =>
            {
                first = await Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("uploads"), cancellationToken);
                var s = first.Stats;
                return $"backup {first.Id}: {s.Files} files, {ByteSize.Format(s.Bytes)} → {ByteSize.Format(s.StoredBytes)} stored";
            });

            await Step(print, "4. change the tree: edit one file, add one, delete one", () =>
            {
                File.AppendAllText(Path.Combine(sample, "logs", "app.log"), "2026-11-22T14:05:00Z INFO order 1001 paid\n");
                File.WriteAllText(Path.Combine(sample, "invoices", "2026", "INV-1001.json"), "{\"id\":1001,\"total\":\"129.90\",\"currency\":\"EUR\"}\n");
                File.Delete(Path.Combine(sample, "invoices", "2026", "INV-0003.json"));
                return Task.FromResult("3 changes");
            });

            BackupSourceResult? second = null;
            await Step(print, "5. back up again (incremental: unchanged files are not read, unchanged data not stored)", async () =>
            {
                second = await Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("uploads"), cancellationToken);
                var s = second.Stats;
                return $"backup {second.Id}: read {ByteSize.Format(s.BytesRead)}, {s.UnchangedFiles} files unchanged, {ByteSize.Format(s.StoredBytes)} stored";
            });

            await Step(print, "6. verify the repository, reading every byte back", async () =>
            {
                var report = await Use<VerifyRepository>().ExecuteAsync(new VerifyRepositoryRequest(ReadData: true), cancellationToken);
                if (!report.Healthy)
                {
                    throw new LifeboatException(ErrorCode.Damage, "verify found damage: " + string.Join("; ", report.Damage.Select(d => d.Object + ": " + d.Problem)));
                }

                return $"{report.Backups} backups, {report.PacksRead} packs read, {ByteSize.Format(report.BytesRead)}: no damage";
            });

            await Step(print, "7. restore the latest backup into a new directory", async () =>
            {
                var outcome = (FilesRestored)await Use<RestoreSource>().ExecuteAsync(new RestoreSourceRequest { Source = "uploads", To = restored }, cancellationToken);
                return $"{outcome.Files} files, {ByteSize.Format(outcome.Bytes)} → {restored}";
            });

            var identical = false;
            await Step(print, "8. compare the restored tree with the original, byte for byte and metadata", () =>
            {
                var differences = TreeComparer.Compare(sample, restored);
                identical = differences.Count == 0;
                return Task.FromResult(identical ? "identical: contents, sizes, modes, mtimes, symlinks, empty directories" : "DIFFERENT:\n    " + string.Join("\n    ", differences.Take(20)));
            });

            print(identical
                ? $"Demo passed in {total.Elapsed.TotalSeconds:0.0}s: the backup restored to an identical tree."
                : "Demo FAILED: the restored tree differs from the original.");
            return identical;
        }
        finally
        {
            if (keep)
            {
                print($"kept {root}");
            }
            else
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static async Task Step(Action<string> print, string title, Func<Task<string>> action)
    {
        var watch = Stopwatch.StartNew();
        var result = await action();
        print($"{title}\n    {result}  [{watch.Elapsed.TotalSeconds:0.00}s]");
    }

    private static (int Files, long Bytes) CreateSample(string sample)
    {
        var files = 0;
        long bytes = 0;
        void Write(string relative, byte[] content, UnixFileMode? mode = null)
        {
            var path = Path.Combine(sample, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content);
            if (mode is not null)
            {
                File.SetUnixFileMode(path, mode.Value);
            }

            files++;
            bytes += content.Length;
        }

        var random = new Random(42);
        for (var i = 1; i <= 40; i++)
        {
            Write($"invoices/2026/INV-{i:0000}.json", Encoding.UTF8.GetBytes($"{{\"id\":{i},\"customer\":\"customer-{random.Next(1000)}\",\"total\":\"{random.Next(10, 5000)}.{random.Next(100):00}\",\"lines\":{random.Next(1, 9)}}}\n"));
        }

        for (var i = 1; i <= 12; i++)
        {
            // Photos: already-compressed bytes, stored raw by the repository.
            var photo = new byte[random.Next(200_000, 900_000)];
            RandomNumberGenerator.Fill(photo);
            Write($"uploads/photos/img_{i:000}.jpg", photo);
        }

        var log = new StringBuilder();
        for (var i = 0; i < 60_000; i++)
        {
            log.Append(CultureInvariant($"2026-11-22T{i / 3600 % 24:00}:{i / 60 % 60:00}:{i % 60:00}Z INFO request {i} GET /api/orders/{random.Next(100000)} 200 {random.Next(1, 300)}ms\n"));
        }

        Write("logs/app.log", Encoding.UTF8.GetBytes(log.ToString()));
        Write("config/.env", Encoding.UTF8.GetBytes("DATABASE_URL=postgres://app@localhost/app\nSECRET_KEY=not-a-real-secret\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Write("bin/rotate.sh", Encoding.UTF8.GetBytes("#!/bin/sh\nexec logrotate /etc/logrotate.conf\n"), (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.Combine(sample, "uploads", "tmp-empty"));
        File.CreateSymbolicLink(Path.Combine(sample, "uploads", "latest.jpg"), "photos/img_012.jpg");
        return (files, bytes);
    }

    private static string CultureInvariant(FormattableString s) => FormattableString.Invariant(s);
}

/// <summary>Compares two directory trees: entries, types, contents, sizes, modes, mtimes and symlink targets.</summary>
public static class TreeComparer
{
    public static List<string> Compare(string expectedRoot, string actualRoot, bool compareOwners = false)
    {
        var differences = new List<string>();
        var walker = new FileTreeWalker([], []);
        var expected = walker.Walk(expectedRoot).ToDictionary(e => e.RelativePath, StringComparer.Ordinal);
        var actual = new FileTreeWalker([], []).Walk(actualRoot).ToDictionary(e => e.RelativePath, StringComparer.Ordinal);
        foreach (var (path, e) in expected)
        {
            var shown = path.Length == 0 ? "." : path;
            if (!actual.TryGetValue(path, out var a))
            {
                differences.Add($"{shown}: missing");
                continue;
            }

            if (e.Stat.Kind != a.Stat.Kind)
            {
                differences.Add($"{shown}: {e.Stat.Kind} became {a.Stat.Kind}");
                continue;
            }

            if (e.Stat.Mode != a.Stat.Mode && e.Stat.Kind != FileKind.Symlink)
            {
                differences.Add($"{shown}: mode {Convert.ToString(e.Stat.Mode, 8)} became {Convert.ToString(a.Stat.Mode, 8)}");
            }

            if (path.Length > 0 && e.Stat.MTimeNs != a.Stat.MTimeNs && e.Stat.Kind != FileKind.Directory)
            {
                differences.Add($"{shown}: mtime differs");
            }

            if (compareOwners && (e.Stat.Uid != a.Stat.Uid || e.Stat.Gid != a.Stat.Gid))
            {
                differences.Add($"{shown}: owner differs");
            }

            switch (e.Stat.Kind)
            {
                case FileKind.Regular when e.Stat.Size != a.Stat.Size:
                    differences.Add($"{shown}: size {e.Stat.Size} became {a.Stat.Size}");
                    break;
                case FileKind.Regular when !SameContent(e.FullPath, a.FullPath):
                    differences.Add($"{shown}: contents differ");
                    break;
                case FileKind.Symlink when e.LinkTarget != a.LinkTarget:
                    differences.Add($"{shown}: link target {e.LinkTarget} became {a.LinkTarget}");
                    break;
            }
        }

        foreach (var path in actual.Keys.Where(p => !expected.ContainsKey(p)))
        {
            differences.Add($"{path}: not in the original");
        }

        return differences;
    }

    private static bool SameContent(string a, string b)
    {
        using var fa = File.OpenRead(a);
        using var fb = File.OpenRead(b);
        return SHA256.HashData(fa).AsSpan().SequenceEqual(SHA256.HashData(fb));
    }
}
