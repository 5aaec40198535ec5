using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;

namespace Lifeboat.Engine.UseCases.Health;

/// <summary>
/// `check`'s warnings about secrets other local users can read: a local repository directory (and its config and key
/// slots, which older versions wrote with the umask's 0644), the key file and the passphrase file. Anyone who can copy
/// a key slot can guess its passphrase offline; anyone who can read the key file or passphrase file opens the repository.
/// </summary>
internal static class PermissionChecks
{
    private const UnixFileMode GroupOrOthers = (UnixFileMode)0b000_111_111;

    public static void Run(Workspace workspace, Repository.Repository? repository, List<CheckResult> results)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (repository?.Target.Innermost() is LocalTarget local)
        {
            CheckRepository(local, results);
        }

        var options = workspace.OptionsOrEmpty.Repository;
        foreach (var (kind, path) in new[] { ("key file", workspace.Keys.KeyFile), ("key file", options.KeyFile), ("passphrase file", workspace.Keys.PassphraseFile), ("passphrase file", options.PassphraseFile) }
                     .Where(k => !string.IsNullOrEmpty(k.Item2))
                     .Select(k => (k.Item1, workspace.ResolvePath(k.Item2!)))
                     .Distinct())
        {
            if (File.Exists(path) && File.GetUnixFileMode(path) is var mode && (mode & GroupOrOthers) != 0)
            {
                results.Add(new CheckResult(
                    "",
                    kind + " permissions",
                    CheckStatus.Warning,
                    $"the {kind} {path} is mode {Octal(mode)}: {Who(mode)} can {((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0 ? "read" : "change")} it, and it opens the repository",
                    $"chmod 0600 {path}"));
            }
        }
    }

    private static void CheckRepository(LocalTarget local, List<CheckResult> results)
    {
        var allowedFile = local.ObjectMode;
        var allowedDirectory = local.DirectoryMode;
        var problems = new List<string>();
        if (Directory.Exists(local.Root) && File.GetUnixFileMode(local.Root) is var dirMode && (dirMode & GroupOrOthers & ~allowedDirectory) is var extra && extra != 0)
        {
            problems.Add($"the repository directory {local.Root} is mode {Octal(dirMode)}: {Who(extra)} can {((extra & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0 ? "list" : "enter")} it");
        }

        // The objects that hold or protect the master key.
        var keys = Path.Combine(local.Root, "keys");
        var secrets = new[] { Path.Combine(local.Root, ObjectNames.Config) }
            .Concat(Directory.Exists(keys) ? Directory.EnumerateFiles(keys).Order(StringComparer.Ordinal) : []);
        foreach (var file in secrets.Where(File.Exists))
        {
            var mode = File.GetUnixFileMode(file);
            if ((mode & GroupOrOthers & ~allowedFile) is var more && (more & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                problems.Add($"{Path.GetRelativePath(local.Root, file)} is mode {Octal(mode)}: {Who(more)} can read it");
            }
        }

        if (problems.Count > 0)
        {
            var group = local.ObjectMode != LocalTarget.PrivateFile;
            results.Add(new CheckResult(
                "",
                "repository permissions",
                CheckStatus.Warning,
                string.Join("; ", problems),
                $"chmod -R {(group ? "o-rwx,g-w" : "go-rwx")} {local.Root} (new objects are written {Octal(local.ObjectMode)}, directories {Octal(local.DirectoryMode)})"));
        }
    }

    private static string Who(UnixFileMode mode) => (mode & (UnixFileMode)0b000_000_111) != 0 ? "other local users" : "the group";

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0');
}
