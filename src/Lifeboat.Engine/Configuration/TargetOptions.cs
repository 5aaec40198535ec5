using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// Targets:NAME — a secondary target holding a replica of the repository (docs/configuration.md, Targets). The primary is
/// Repository:Url and is called <c>primary</c> in every command.
/// </summary>
public sealed class TargetOptions
{
    /// <summary>The name the primary target (Repository:Url) goes by; no secondary may use it.</summary>
    public const string PrimaryName = "primary";

    /// <summary>Where the replica is: the same URL forms as Repository:Url.</summary>
    public string? Url { get; set; }

    /// <summary>Retention on this target for every source; null: each source's own Sources:NAME:Retention.</summary>
    public RetentionOptions? Retention { get; set; }

    /// <summary>Replicate to this target after every backup (a failure is reported and recorded, never fails the backup).</summary>
    public bool ReplicateAfterBackup { get; set; } = true;

    /// <summary>wal-push writes every WAL file here too; false: WAL reaches this target by replication only.</summary>
    public bool PushWal { get; set; } = true;

    /// <summary>Read every replicated object back and compare its SHA-256; false: compare the size only (saves egress).</summary>
    public bool ReadBack { get; set; } = true;

    /// <summary>Checks every target: names, URLs present and distinct (from each other and from the primary), retention.</summary>
    public static void ValidateAll(LifeboatOptions options, string configPath)
    {
        var urls = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.Repository.Url is { } primary)
        {
            urls[Normalize(primary)] = PrimaryName;
        }

        foreach (var (name, target) in options.Targets.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            ValidateName(name, $"target name in {configPath}");
            if (string.IsNullOrWhiteSpace(target.Url))
            {
                throw new LifeboatException(ErrorCode.Config, $"target '{name}' in {configPath} has no Url", $"set Targets:{name}:Url, or remove the target with `lifeboat repo target remove {name}`");
            }

            if (urls.TryGetValue(Normalize(target.Url), out var other))
            {
                throw new LifeboatException(ErrorCode.Config, $"target '{name}' in {configPath} names the same place as target '{other}' ({Redact.Url(target.Url)})", "each target must be another place: a replica on the same storage protects against nothing");
            }

            urls[Normalize(target.Url)] = name;
            target.Retention?.ToPolicy().Validate($"Targets:{name}:Retention");
        }
    }

    /// <summary>Target names: as source names, and never <c>primary</c>.</summary>
    public static void ValidateName(string name, string what)
    {
        SourceNames.Validate(name, what);
        if (name == PrimaryName)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{PrimaryName}' is not a valid {what}: it names the repository's own target (Repository:Url)", "choose another name, such as offsite");
        }
    }

    private static string Normalize(string url) => url.Trim().TrimEnd('/');
}
