namespace Lifeboat.Postgres.Tools;

/// <summary>
/// Where PostgreSQL's programs are, for one environment: the one lookup every part of Lifeboat uses.
/// <list type="number">
/// <item><c>LIFEBOAT_PG_BINDIR</c>, when the environment sets it (non-empty), is the directory of every program, client
/// and server, whatever its version;</item>
/// <item>else Debian's <c>/usr/lib/postgresql/NN/bin</c>: client programs from the newest installed major (a newer
/// <c>pg_dump</c> reads older servers), server programs of an exact major (a data directory starts only under its own
/// major), or the newest installed major Lifeboat backs up (<see cref="NewestClusterMajor"/>) when no major is given;</item>
/// <item>else the bare program name, which the operating system looks up in <c>PATH</c>.</item>
/// </list>
/// The environment is the one given, not the process's: an application-layer call passes its workspace's environment
/// (the command line's is the process environment), and a call given an environment without the variable does not
/// see a <c>LIFEBOAT_PG_BINDIR</c> of the process. <see cref="Process"/> is for code outside any call (test fixtures).
/// </summary>
public sealed class PgBinaries
{
    /// <summary>The environment variable naming the directory of PostgreSQL's programs.</summary>
    public const string Variable = "LIFEBOAT_PG_BINDIR";

    /// <summary>Where Debian and Ubuntu install each major: <c>/usr/lib/postgresql/NN/bin</c>.</summary>
    public const string DebianRoot = "/usr/lib/postgresql";

    /// <summary>The oldest major Lifeboat supports.</summary>
    public const int OldestMajor = 13;

    /// <summary>The newest major whose data directory Lifeboat backs up and restores (pg_control, WAL formats).</summary>
    public const int NewestClusterMajor = 17;

    /// <summary>The newest major whose programs are used: client programs (and servers a dump loads into) may be newer than the cluster.</summary>
    public const int NewestMajor = 18;

    private readonly string _root;

    private PgBinaries(string? directory, string root)
    {
        Override = string.IsNullOrEmpty(directory) ? null : directory;
        _root = root;
    }

    /// <summary>The majors whose install directories are searched, newest first (<see cref="NewestMajor"/> down to <see cref="OldestMajor"/>).</summary>
    public static IReadOnlyList<int> Majors { get; } = [.. Enumerable.Range(OldestMajor, NewestMajor - OldestMajor + 1).Reverse()];

    /// <summary>The lookup of the process environment: for code that runs outside any call (test fixtures).</summary>
    public static PgBinaries Process => new(Environment.GetEnvironmentVariable(Variable), DebianRoot);

    /// <summary><c>LIFEBOAT_PG_BINDIR</c> of the environment, or null when it is unset or empty.</summary>
    public string? Override { get; }

    /// <summary>The lookup for an environment (a call's); <paramref name="root"/> replaces <see cref="DebianRoot"/> in tests.</summary>
    public static PgBinaries For(IReadOnlyDictionary<string, string?> environment, string root = DebianRoot)
        => new(environment.TryGetValue(Variable, out var directory) ? directory : null, root);

    /// <summary>Whether a major is one whose clusters Lifeboat backs up and restores.</summary>
    public static bool IsSupportedCluster(int major) => major is >= OldestMajor and <= NewestClusterMajor;

    /// <summary>A program in a directory, or its bare name (found in PATH) when the directory is null.</summary>
    public static string In(string? directory, string program) => directory is null ? program : Path.Combine(directory, program);

    /// <summary>A client program (pg_dump, pg_restore, psql…): from the override, else the newest installed major that has it, else PATH.</summary>
    public string Client(string program)
    {
        if (Override is not null)
        {
            return Path.Combine(Override, program);
        }

        foreach (var major in Majors)
        {
            var path = Path.Combine(MajorDirectory(major), program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return program;
    }

    /// <summary>The server programs of exactly one major: the override, else its install directory when it has pg_ctl, else null (not installed).</summary>
    public string? Server(int major)
    {
        if (Override is not null)
        {
            return Override;
        }

        var dir = MajorDirectory(major);
        return File.Exists(Path.Combine(dir, "pg_ctl")) ? dir : null;
    }

    /// <summary>The server programs of <paramref name="major"/>, else of the newest installed newer major (a logical dump loads into a newer server), else null.</summary>
    public string? ServerAtLeast(int major)
        => Server(major) ?? Majors.Where(m => m > major).Select(Server).FirstOrDefault(d => d is not null);

    /// <summary>
    /// The server programs when no major is given (a new cluster: the demo's, a test's): the override, else the newest
    /// installed major Lifeboat backs up that has initdb, else null (PATH).
    /// </summary>
    public string? NewestServer
        => Override ?? Majors.Where(m => m <= NewestClusterMajor).Select(MajorDirectory).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));

    /// <summary>Whether <see cref="NewestServer"/> holds initdb and pg_ctl (a new cluster can be created and started).</summary>
    public bool HasServer => NewestServer is { } dir && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

    private string MajorDirectory(int major) => Path.Combine(_root, major.ToString(System.Globalization.CultureInfo.InvariantCulture), "bin");
}
