using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>Drill: how drills run on this host (docs/operations/drills.md).</summary>
public sealed class DrillOptions
{
    /// <summary>Where the HTML and JSON reports go (default: drills/ next to the catalog).</summary>
    public string? ReportsDirectory { get; set; }

    /// <summary>Where scratch clusters and directories are created (default: the system temp directory).</summary>
    public string? ScratchDirectory { get; set; }

    /// <summary>A drill that runs longer fails (and cleans up).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Run the scratch server under nice -n 10 and ionice -c 3, and the lifeboat drill process at low priority.</summary>
    public bool LowPriority { get; set; } = true;

    /// <summary>Free space needed beyond the backup's size (WAL the scratch server writes and fetches).</summary>
    public long WalMarginBytes { get; set; } = 256L << 20;

    /// <summary>shared_buffers of the scratch server (the production value could take the host's memory).</summary>
    public string SharedBuffers { get; set; } = "128MB";

    internal void Validate(string configPath)
    {
        if (Timeout <= TimeSpan.Zero || WalMarginBytes < 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"Drill:Timeout must be positive and Drill:WalMarginBytes not negative in {configPath}", "for example \"Timeout\": \"00:30:00\"");
        }

        if (string.IsNullOrWhiteSpace(SharedBuffers))
        {
            throw new LifeboatException(ErrorCode.Config, $"Drill:SharedBuffers in {configPath} is empty", "use a PostgreSQL size such as 128MB");
        }
    }
}

/// <summary>Sources:NAME:Drill — what a drill of a cluster source checks besides amcheck and the restore itself.</summary>
public sealed class DrillSourceOptions
{
    /// <summary>Count the rows of only the N largest tables (by pg_class.reltuples) at backup time; 0: none; not set: every table.</summary>
    public int? RowCountTables { get; set; }

    /// <summary>The database whose tables are counted (default: the database of the source's connection).</summary>
    public string? RowCountDatabase { get; set; }

    /// <summary>Queries run on the restored cluster, each with its expected result.</summary>
    public List<SmokeQueryOptions> SmokeQueries { get; set; } = [];

    internal void Validate(string source, string configPath)
    {
        if (RowCountTables is < 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"Sources:{source}:Drill:RowCountTables = {RowCountTables} in {configPath} is negative", "use 0 (no counts), N (the N largest tables), or remove it (every table)");
        }

        for (var i = 0; i < SmokeQueries.Count; i++)
        {
            var q = SmokeQueries[i];
            var what = $"Sources:{source}:Drill:SmokeQueries:{i}";
            if (string.IsNullOrWhiteSpace(q.Sql))
            {
                throw new LifeboatException(ErrorCode.Config, $"{what} in {configPath} has no Sql", "give the query whose first column of the first row is checked, e.g. SELECT count(*) FROM events");
            }

            if (!Drills.SmokeExpectation.TryParse(q.Expect, out _, out var error))
            {
                throw new LifeboatException(ErrorCode.Config, $"{what}:Expect in {configPath}: {error}", "write an operator and a value: '>= 1', '= 42', '!= 0', '= open', '= null'");
            }
        }
    }
}

/// <summary>One smoke query of a drill: SQL run on the restored cluster and the result it must give.</summary>
public sealed class SmokeQueryOptions
{
    /// <summary>A name for the report (default: the SQL).</summary>
    public string? Name { get; set; }

    /// <summary>The database to run it in (default: RowCountDatabase, else the connection's database).</summary>
    public string? Database { get; set; }

    /// <summary>The query; its first column of the first row is compared.</summary>
    public string? Sql { get; set; }

    /// <summary>The expectation: an operator (=, !=, &lt;, &lt;=, &gt;, &gt;=) and a value, e.g. '&gt;= 1'.</summary>
    public string? Expect { get; set; }
}
