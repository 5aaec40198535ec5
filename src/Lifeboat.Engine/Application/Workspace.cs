using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres.Tools;
using Lifeboat.Repository.Writing;

namespace Lifeboat.Engine.Application;

/// <summary>
/// What one call works on: a configuration (the file and its environment overrides), the repository and secondary
/// targets it names, and the catalog beside it. Resolved per call — by the CLI from --config and the environment, by
/// the server from the caller — so one process can serve several workspaces (tenants). Not thread-safe: one per call.
/// </summary>
public sealed class Workspace
{
    /// <summary>The name of the workspace of a single-tenant installation.</summary>
    public const string DefaultName = "default";

    private LifeboatOptions? _options;

    public Workspace(ConfigFile config, IReadOnlyDictionary<string, string?> environment, string workingDirectory, KeyOptions? keys = null, string name = DefaultName, Workspace? host = null)
    {
        Config = config;
        Environment = environment;
        WorkingDirectory = workingDirectory;
        Keys = keys ?? new KeyOptions();
        Name = name;
        Host = host;
    }

    /// <summary>The tenant this workspace belongs to.</summary>
    public string Name { get; }

    /// <summary>
    /// For a tenant's workspace (docs/tenants.md): the server's own workspace, whose catalog and settings (Catalog,
    /// Server, Tenants, Events:Retention) it uses. Null for the default tenant, which is the server's configuration.
    /// </summary>
    public Workspace? Host { get; }

    public ConfigFile Config { get; }

    /// <summary>Where the configuration file is (for messages).</summary>
    public string ConfigPath => Config.Path;

    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>Relative paths in requests are resolved against this directory.</summary>
    public string WorkingDirectory { get; }

    /// <summary>Key sources given with the call (key file, passphrase file, a prompt).</summary>
    public KeyOptions Keys { get; }

    /// <summary>
    /// Where PostgreSQL's programs are for this call: <c>LIFEBOAT_PG_BINDIR</c> of <see cref="Environment"/> — never
    /// the process's, which is the same only when the adapter passed the process environment (the command line) —
    /// else the installed versions, else PATH.
    /// </summary>
    public PgBinaries PgBinaries => PgBinaries.For(Environment);

    /// <summary>The same workspace anew, for another call (a server's request or job): the configuration is read again.</summary>
    public Workspace Reopen() => new(Config, Environment, WorkingDirectory, Keys, Name, Host?.Reopen());

    /// <summary>The configuration, read and validated on first use.</summary>
    public LifeboatOptions Options => _options ??= Host is null ? Config.Load(Environment) : TenantWorkspaces.Load(Config, Environment);

    /// <summary>The catalog's settings: the server's for a tenant (one catalog, scoped by tenant), else this configuration's.</summary>
    public CatalogOptions CatalogOptions => Host?.CatalogOptions ?? Options.Catalog;

    /// <summary>The configuration when the file exists, else an empty one (commands that create the file).</summary>
    public LifeboatOptions OptionsOrEmpty => Config.Exists ? Options : new LifeboatOptions();

    /// <summary>Changes the configuration file and forgets the cached configuration.</summary>
    public void EditConfig(Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        Config.Edit(edit);
        _options = null;
    }

    public string RepositoryUrl => Options.Repository.Url
        ?? throw (Config.Exists
            ? new LifeboatException(ErrorCode.Config, $"no repository is configured in {Config.Path}", "create one with `lifeboat repo init --repo URL`, or set Repository:Url")
            : NoConfigurationFile());

    /// <summary>
    /// There is no configuration file where it was looked for: say where, and how to name one (the command line's
    /// `--config`, the LIFEBOAT_CONFIG variable) or create one.
    /// </summary>
    public LifeboatException NoConfigurationFile()
        => new(
            ErrorCode.Config,
            $"no configuration file: {Config.Path} does not exist{(Config.ExplicitlyChosen || Config.Path == ConfigFile.SystemPath ? "" : $", nor {ConfigFile.SystemPath}")}",
            $"name the configuration with `lifeboat --config FILE …` or the {ConfigFile.ConfigVariable} variable (`export {ConfigFile.ConfigVariable}={ConfigFile.SystemPath}`), or create one here with `lifeboat repo init --repo URL`");

    public string ResolvePath(string path) => Path.GetFullPath(path, WorkingDirectory);

    /// <summary>Where the SQLite catalog lives: Catalog:Path, or lifeboat.db next to the configuration file.</summary>
    public string CatalogPath => Host?.CatalogPath ?? (Options.Catalog.Path is { } p ? ResolvePath(p) : Path.Combine(Path.GetDirectoryName(Config.Path)!, "lifeboat.db"));

    /// <summary>Directory for state that must outlive one process (operation locks, drill reports): a tenant's own directory for a tenant.</summary>
    public string StateDirectory => Host is null ? Path.GetDirectoryName(CatalogPath)! : Path.GetDirectoryName(Config.Path)!;

    public WriterOptions WriterOptions => new()
    {
        Workers = Options.Repository.Workers ?? System.Environment.ProcessorCount,
        CompressionLevel = Options.Repository.CompressionLevel,
        SpoolDirectory = Options.Repository.SpoolDirectory,
    };

    /// <summary>The configured source; exit 2 naming the configured ones when there is none of that name.</summary>
    public SourceOptions GetSource(string name)
    {
        if (!Options.Sources.TryGetValue(name, out var source))
        {
            if (!Config.Exists)
            {
                throw NoConfigurationFile();
            }

            var known = Options.Sources.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", Options.Sources.Keys.Order(StringComparer.Ordinal));
            throw new LifeboatException(ErrorCode.InvalidInput, $"there is no source '{name}' in {Config.Path} ({known})", "`lifeboat source list` shows the sources; add one with `lifeboat source add-files`, `add-cluster`, `add-database` or `add-config`");
        }

        return source;
    }

    /// <summary>The configured source of kind <typeparamref name="T"/>; exit 2 when it is missing or of another kind.</summary>
    public T GetSource<T>(string name)
        where T : SourceOptions
    {
        var source = GetSource(name);
        return source as T ?? throw new LifeboatException(ErrorCode.InvalidInput, $"source '{name}' is a {source.Kind} source, not a {KindOf<T>()} source", $"give the name of a {KindOf<T>()} source (`lifeboat source list` shows them)");
    }

    public StackOptions GetStack(string name)
    {
        if (!Options.Stacks.TryGetValue(name, out var stack))
        {
            if (!Config.Exists)
            {
                throw NoConfigurationFile();
            }

            var known = Options.Stacks.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", Options.Stacks.Keys.Order(StringComparer.Ordinal));
            throw new LifeboatException(ErrorCode.InvalidInput, $"there is no stack '{name}' in {Config.Path} ({known})", "`lifeboat stack list` shows the stacks; add one with `lifeboat stack add NAME --sources A,B,C`");
        }

        return stack;
    }

    private static string KindOf<T>() => typeof(T).Name switch
    {
        nameof(ClusterSourceOptions) => SourceKinds.Cluster,
        nameof(DatabaseSourceOptions) => SourceKinds.Database,
        nameof(ConfigSourceOptions) => SourceKinds.Config,
        _ => SourceKinds.Files,
    };
}
