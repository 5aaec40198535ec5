using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Logical;
using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Tools;
using Lifeboat.Repository.Format;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// The second half of a drill of a logical (database) source, after its dump tree was restored into the scratch
/// directory and re-hashed against the recorded chunk ids: a new scratch cluster (initdb, the dump's PostgreSQL version
/// or a newer one) on a free port and its private Unix socket only, at low priority; the roles from globals.sql; the
/// database created like the original and loaded with pg_restore --exit-on-error; then pg_amcheck and the smoke queries.
/// The caller stops the server (it is returned as soon as it exists) and removes the directory.
/// </summary>
internal sealed class DatabaseDrill
{
    private readonly DrillEnvironment _context;
    private readonly DatabaseSourceOptions _source;
    private readonly DrillPlan _plan;
    private readonly DrillReport _report;
    private readonly IProgress<string>? _progress;

    public DatabaseDrill(DrillEnvironment context, DatabaseSourceOptions source, DrillPlan plan, DrillReport report, IProgress<string>? progress)
    {
        _context = context;
        _source = source;
        _plan = plan;
        _report = report;
        _progress = progress;
    }

    private TimeProvider Time => _context.Time;

    private PgBinaries Pg => _context.Workspace.PgBinaries;

    /// <summary>Free space the scratch server needs beyond the dump tree: the database's size and a margin.</summary>
    public static long ExtraSpace(Manifest manifest, DrillOptions options) => LogicalRestore.Describe(manifest).Like.Size + options.WalMarginBytes;

    /// <summary>Loads and checks the database; returns the scratch server to stop (null when none was created).</summary>
    public async Task<PostgresCluster?> RunAsync(Manifest manifest, ScratchSpace scratch, string restoredTree, CancellationToken cancellationToken)
    {
        var (database, like, _) = LogicalRestore.Describe(manifest);
        var started = Time.GetTimestamp();
        var binDir = Pg.ServerAtLeast(like.ServerMajor);
        if (binDir is null)
        {
            _report.Add(new DrillCheck("load", DrillCheckStatus.Failed, $"no PostgreSQL server of version {like.ServerMajor} or newer is installed ({PgBinaries.DebianRoot}/N/bin): the dump of database '{database}' ({like.ServerVersion}) cannot be loaded here"));
            return null;
        }

        var pgdata = scratch.Combine("pgdata");
        _progress?.Report($"creating a scratch server ({binDir}) to load database '{database}' into");
        Directory.CreateDirectory(pgdata);
        PostgresCluster.ChownForServer(pgdata, PostgresCluster.DefaultOsUser);
        File.SetUnixFileMode(pgdata, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var init = await ProcessRunner.RunAsync(Path.Combine(binDir, "initdb"), ["-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], PostgresCluster.DefaultOsUser, null, _plan.Timeout, cancellationToken);
        if (!init.Success)
        {
            _report.Add(new DrillCheck("load", DrillCheckStatus.Failed, $"initdb of the scratch server failed: {PgTools.Tail(init.Error, 10)}", Time.GetElapsedTime(started)));
            return null;
        }

        var server = PostgresCluster.Attach(pgdata, binDir, socketOnly: true);
        _report.ScratchPort = server.Port;
        var (wrapper, priority) = LowPriority.ServerWrapper(_context.Workspace.Options.Drill.LowPriority);
        _report.Priority = priority;
        var settings = new Dictionary<string, string>
        {
            ["shared_buffers"] = _context.Workspace.Options.Drill.SharedBuffers,
            ["logging_collector"] = "off",
            ["lc_messages"] = "C",
            ["cluster_name"] = "lifeboat-drill",
        };
        try
        {
            await server.StartAsync(new StartOptions { Settings = settings, Wrapper = wrapper, Timeout = _plan.Timeout }, cancellationToken);
        }
        catch (LifeboatException ex) when (ex.Code == ErrorCode.PostgresFailed)
        {
            _report.Add(new DrillCheck("load", DrillCheckStatus.Failed, "the scratch server did not start: " + ex.Message, Time.GetElapsedTime(started)));
            return server;
        }

        var connection = PgConnection.Own(server.ConnectionString("postgres"));
        var globals = Path.Combine(restoredTree, LogicalBackup.GlobalsFile);
        var roles = "";
        if (File.Exists(globals))
        {
            // Roles the objects belong to and are granted to; a role that exists already (postgres) is an error psql skips.
            _progress?.Report("creating the roles of globals.sql");
            var g = await ProcessRunner.RunAsync(Pg.Client("psql"), ["-X", "-q", "-d", "postgres", "-f", globals], null, connection.LibpqEnvironment("postgres"), _plan.Timeout, cancellationToken);
            var errors = g.Error.Split('\n').Count(l => l.Contains("ERROR:", StringComparison.Ordinal));
            roles = errors == 0 ? "; roles created from globals.sql" : $"; roles created from globals.sql ({errors} statement(s) failed, such as creating a role the new cluster already has)";
        }

        // How the dump is stored: a directory-format dump (taken by Lifeboat, or uploaded as a tar), or an uploaded
        // custom-format file or SQL script (LogicalUpload), each loaded the way a restore loads it.
        var format = DumpDetails.FromDetails(manifest.Details)?.Format;
        var createLike = like.Encoding.Length == 0 ? null : like; // an uploaded dump: the server's defaults
        var tool = format == DumpFormats.Plain ? "psql --single-transaction -v ON_ERROR_STOP=1" : "pg_restore --exit-on-error";
        _progress?.Report($"loading database '{database}' with {tool.Split(' ')[0]}");
        DatabaseRestoreResult loaded;
        var into = new DatabaseRestoreOptions { Connection = connection, Into = database, Jobs = _source.Jobs, NoOwner = format != DumpFormats.Plain && !File.Exists(globals) };
        var what = $"backup {manifest.Id} of database '{database}'";
        try
        {
            if (format == DumpFormats.Plain)
            {
                var script = Path.Combine(restoredTree, LogicalUpload.PlainScriptFile);
                loaded = await DatabaseRestorer.RestoreScriptAsync(Pg, async (input, ct) =>
                {
                    await using var file = new FileStream(script, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous);
                    await file.CopyToAsync(input, 1 << 16, ct);
                }, createLike, into, what, cancellationToken);
            }
            else
            {
                var dump = Path.Combine(restoredTree, format == DumpFormats.Custom ? LogicalUpload.CustomDumpFile : LogicalBackup.DumpDirectory);
                var listing = await PgTools.RunAsync(Pg.Client("pg_restore"), ["-l", "-v", dump], new Dictionary<string, string>(), cancellationToken);
                var toc = DumpToc.Parse(listing.Output);
                loaded = await DatabaseRestorer.RestoreAsync(Pg, dump, toc, createLike, into, what, scratch.Root, cancellationToken);
            }
        }
        catch (LifeboatException ex) when (ex.Code is ErrorCode.PostgresFailed or ErrorCode.InvalidInput)
        {
            _report.Add(new DrillCheck("load", DrillCheckStatus.Failed, $"the dump of database '{database}' did not load: {ex.Message}" + (ex.Hint is null ? "" : "\nhint: " + ex.Hint), Time.GetElapsedTime(started)));
            return server;
        }

        _report.RecoveryTime = Time.GetElapsedTime(started);
        _report.PostgresVersion = "PostgreSQL " + await DrillChecks.ScalarAsync<string>(server, "postgres", "select current_setting('server_version')", cancellationToken);
        var tables = await DrillChecks.ScalarAsync<long>(server, database, "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')", cancellationToken);
        _report.Add(new DrillCheck("load", DrillCheckStatus.Passed,
            $"database '{database}' created {(createLike is null ? "with the server's defaults (an uploaded dump does not say its encoding and locale)" : $"like the original ({like.Encoding}, {like.Collate})")} in a scratch {_report.PostgresVersion} and loaded by {tool}: {(format == DumpFormats.Plain ? "the SQL script" : $"{loaded.Entries} dump entries")}, {tables.ToString(CultureInfo.InvariantCulture)} table(s){roles}",
            _report.RecoveryTime));

        var checks = await DrillChecks.AmcheckAsync(server, _report, _progress, _plan.Timeout, Time, cancellationToken);
        checks += await DrillChecks.SmokeQueriesAsync(server, _source.Drill.SmokeQueries, database, _report, Time, cancellationToken);
        _report.ChecksTime = (_report.ChecksTime ?? TimeSpan.Zero) + checks;
        return server;
    }
}
