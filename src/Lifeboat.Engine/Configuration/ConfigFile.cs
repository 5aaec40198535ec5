using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Core;
using Lifeboat.Platform;
using Microsoft.Extensions.Configuration;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// The configuration file: where it is (CLI.md: <c>--config</c>, then <c>$LIFEBOAT_CONFIG</c>, then
/// <c>./lifeboat.json</c>, then <c>/etc/lifeboat/lifeboat.json</c>), reading it with environment overrides, and editing it.
/// </summary>
public sealed class ConfigFile
{
    public const string EnvironmentPrefix = "LIFEBOAT__";
    public const string ConfigVariable = "LIFEBOAT_CONFIG";
    public const string SystemPath = "/etc/lifeboat/lifeboat.json";

    private ConfigFile(string path, bool explicitlyChosen)
    {
        Path = path;
        ExplicitlyChosen = explicitlyChosen;
    }

    public string Path { get; }

    /// <summary>Whether --config or $LIFEBOAT_CONFIG named it (then it must exist for commands that read it).</summary>
    public bool ExplicitlyChosen { get; }

    public bool Exists => File.Exists(Path);

    public static ConfigFile Resolve(string? explicitPath, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return new ConfigFile(System.IO.Path.GetFullPath(explicitPath, workingDirectory), true);
        }

        if (environment.TryGetValue(ConfigVariable, out var fromEnv) && !string.IsNullOrEmpty(fromEnv))
        {
            return new ConfigFile(System.IO.Path.GetFullPath(fromEnv, workingDirectory), true);
        }

        var local = System.IO.Path.Combine(workingDirectory, "lifeboat.json");
        if (File.Exists(local) || !File.Exists(SystemPath))
        {
            return new ConfigFile(local, false);
        }

        return new ConfigFile(SystemPath, false);
    }

    /// <summary>
    /// Configurations this process has read, by file: a server reads the configuration for every request, and parsing
    /// and binding it cost more than most requests. An entry is used only while the file is the same one (inode, size,
    /// modification and change times — an edit replaces the file, so a new inode) and the overrides are the same;
    /// options are never changed after they are read, so calls can share them.
    /// </summary>
    private static readonly ConcurrentDictionary<string, (FileStat File, string Overrides, LifeboatOptions Options)> Loaded = new(StringComparer.Ordinal);

    /// <summary>Reads and validates the configuration, with <c>LIFEBOAT__Section__Key</c> environment overrides.</summary>
    public LifeboatOptions Load(IReadOnlyDictionary<string, string?> environment)
    {
        if (ExplicitlyChosen && !Exists)
        {
            throw new LifeboatException(ErrorCode.Config, $"the configuration file {Path} does not exist", "check the --config path or $LIFEBOAT_CONFIG, or create it with `lifeboat repo init --repo URL`");
        }

        var overrides = string.Join('\n', environment
            .Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key + "=" + kv.Value));
        var file = Unix.Lstat(Path);
        if (file is { Kind: FileKind.Regular } stat && Loaded.TryGetValue(Path, out var cached) && cached.File == stat && cached.Overrides == overrides)
        {
            return cached.Options;
        }

        var options = Read(environment);
        if (file is { Kind: FileKind.Regular } read && Unix.Lstat(Path) == read)
        {
            Loaded[Path] = (read, overrides, options);
        }

        return options;
    }

    private LifeboatOptions Read(IReadOnlyDictionary<string, string?> environment)
    {
        var builder = new ConfigurationBuilder();
        byte[]? json = null;
        if (Exists)
        {
            try
            {
                json = File.ReadAllBytes(Path);
                builder.AddJsonStream(new MemoryStream(json));
            }
            catch (UnauthorizedAccessException ex)
            {
                throw LifeboatException.PermissionDenied(Path, "read", "the configuration file ", ex);
            }
        }

        var overrides = environment
            .Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && kv.Key.Length > EnvironmentPrefix.Length)
            .Select(kv => new KeyValuePair<string, string?>(kv.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), kv.Value));
        builder.AddInMemoryCollection(overrides);

        LifeboatOptions options;
        try
        {
            var configuration = builder.Build();
            // An unknown setting is named with its path and the nearest known one before the binder refuses it.
            ConfigSchema.CheckKnown(configuration, json is null ? null : new ConfigurationBuilder().AddJsonStream(new MemoryStream(json)).Build(), Path);
            // Sources are bound one by one into the options type of their kind; everything else in one go.
            var rest = new ConfigurationBuilder()
                .AddInMemoryCollection(configuration.AsEnumerable().Where(kv => !IsSourceKey(kv.Key)))
                .Build();
            options = BindSections(rest);
            foreach (var source in configuration.GetSection("Sources").GetChildren())
            {
                options.Sources[source.Key] = SourceOptions.Bind(source, Path);
                options.Sources[source.Key].UseEnvironment(environment);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new LifeboatException(ErrorCode.Config, $"the configuration file {Path} is not valid JSON: {ex.InnerException?.Message ?? ex.Message}", "fix the JSON syntax", ex);
        }
        catch (FormatException ex)
        {
            throw new LifeboatException(ErrorCode.Config, $"the configuration file {Path} is not valid JSON: {ex.Message}", "fix the JSON syntax", ex);
        }
        catch (JsonException ex)
        {
            throw new LifeboatException(ErrorCode.Config, $"the configuration file {Path} is not valid JSON: {ex.Message}", "fix the JSON syntax", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new LifeboatException(ErrorCode.Config, $"the configuration in {Path} (or a LIFEBOAT__ variable) has a setting Lifeboat does not know or a value of the wrong type: {ex.Message}", "see docs/configuration.md for the settings", ex);
        }

        options.Validate(Path);
        return options;
    }

    /// <summary>
    /// Every section but Sources, each bound on its own: the configuration binding generator (Native AOT) cannot bind
    /// LifeboatOptions whole, whose Sources hold the abstract SourceOptions (SYSLIB1100). One list, so a new section is
    /// bound and known by adding one line. An unknown section is an error, as an unknown setting is inside a section.
    /// </summary>
    private static readonly (string Name, Action<IConfiguration, LifeboatOptions, Action<BinderOptions>> Bind)[] Sections =
    [
        ("Repository", (c, o, b) => c.Bind(o.Repository, b)),
        ("Catalog", (c, o, b) => c.Bind(o.Catalog, b)),
        ("Schedules", (c, o, b) => c.Bind(o.Schedules, b)),
        ("Health", (c, o, b) => c.Bind(o.Health, b)),
        ("Targets", (c, o, b) => c.Bind(o.Targets, b)),
        ("Drill", (c, o, b) => c.Bind(o.Drill, b)),
        ("Server", (c, o, b) => c.Bind(o.Server, b)),
        ("Stacks", (c, o, b) => c.Bind(o.Stacks, b)),
        ("Events", (c, o, b) => c.Bind(o.Events, b)),
        ("Tenants", (c, o, b) => c.Bind(o.Tenants, b)),
        ("Approvals", (c, o, b) => c.Bind(o.Approvals, b)),
    ];

    private static LifeboatOptions BindSections(IConfiguration rest)
    {
        foreach (var section in rest.GetChildren())
        {
            if (!Sections.Any(s => s.Name.Equals(section.Key, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException($"there is no section '{section.Key}' (the sections are Sources, {string.Join(", ", Sections.Select(s => s.Name))})");
            }
        }

        static void Strict(BinderOptions o) => o.ErrorOnUnknownConfiguration = true;
        var options = new LifeboatOptions();
        foreach (var (name, bind) in Sections)
        {
            bind(rest.GetSection(name), options, Strict);
        }

        return options;
    }

    private static bool IsSourceKey(string key)
        => key.StartsWith("Sources:", StringComparison.OrdinalIgnoreCase) || key.Equals("Sources", StringComparison.OrdinalIgnoreCase);

    /// <summary>Changes the file (created if missing) atomically; it is written readable by its owner only.</summary>
    public void Edit(Action<JsonObject> edit)
    {
        JsonObject root;
        if (Exists)
        {
            try
            {
                root = JsonNode.Parse(File.ReadAllText(Path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                       ?? throw new LifeboatException(ErrorCode.Config, $"the configuration file {Path} does not hold a JSON object", "fix or remove the file");
            }
            catch (JsonException ex)
            {
                throw new LifeboatException(ErrorCode.Config, $"the configuration file {Path} is not valid JSON: {ex.Message}", "fix the JSON syntax", ex);
            }
        }
        else
        {
            root = [];
        }

        edit(root);
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        var temp = Path + ".tmp-" + Environment.ProcessId;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            root.WriteTo(writer);
            writer.Flush();
            stream.WriteByte((byte)'\n');
            stream.Flush(flushToDisk: true);
        }

        // Keep the owner of an existing file (root editing /etc/lifeboat/lifeboat.json for the postgres user); a new file
        // in a directory another user owns (/etc/lifeboat, made by scripts/install.sh for postgres) gets that owner, so
        // that archive_command, run as that user, can read what root wrote.
        if (Unix.IsRoot && (Unix.Lstat(Path) ?? OwnedByAnother(directory)) is { } owner)
        {
            Unix.Lchown(temp, owner.Uid, owner.Gid);
        }

        File.Move(temp, Path, overwrite: true);
        Loaded.TryRemove(Path, out _);
    }

    /// <summary>The directory's owner when it is not root.</summary>
    internal static FileStat? OwnedByAnother(string directory) => Unix.Lstat(directory) is { Uid: not 0 } owner ? owner : null;

    /// <summary>The object at <paramref name="key"/>, created when missing.</summary>
    public static JsonObject Section(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[key] = created;
        return created;
    }
}
