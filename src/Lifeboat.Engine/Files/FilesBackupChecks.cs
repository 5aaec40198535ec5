using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.Files;

/// <summary>`lifeboat check` for a files source: its path exists and can be read.</summary>
public static class FilesBackupChecks
{
    public static CheckResult Check(string name, FilesSourceOptions source)
    {
        try
        {
            var root = FilesBackup.CheckSourcePath(name, source);
            return new CheckResult(name, "path", CheckStatus.Ok, $"{root} is a readable directory");
        }
        catch (LifeboatException ex)
        {
            return new CheckResult(name, "path", CheckStatus.Failed, ex.Message, ex.Hint);
        }
    }

    /// <summary>A config set: every path exists and is readable, and the repository encrypts.</summary>
    public static CheckResult CheckConfig(string name, ConfigSourceOptions source, Lifeboat.Repository.Repository? repository)
    {
        try
        {
            ConfigBackup.Check(name, source, repository);
            return new CheckResult(name, "paths", CheckStatus.Ok, $"{source.Paths.Count} path(s) readable" + (repository is null ? "" : ", the repository encrypts"));
        }
        catch (LifeboatException ex)
        {
            return new CheckResult(name, "paths", CheckStatus.Failed, ex.Message, ex.Hint);
        }
    }
}
