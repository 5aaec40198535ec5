using System.Diagnostics;
using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Tools;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Crypto;
using Lifeboat.Targets;
using Microsoft.Extensions.DependencyInjection;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Demo;

/// <summary>
/// The main demo (README command one): a throwaway PostgreSQL cluster with WAL archiving into an encrypted repository,
/// pgbench data, a full and an incremental backup, an "accidental" DROP TABLE, and a point-in-time restore to just
/// before it into a new directory — started and queried to prove every row is back. Prints each step with its timing,
/// the RPO (rows lost) and the RTO (restore start to first query).
/// </summary>
public sealed class ClusterDemo
{
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;

    public ClusterDemo(IServiceScopeFactory scopes, TimeProvider time)
    {
        _scopes = scopes;
        _time = time;
    }

    public async Task<bool> RunAsync(bool keep, IReadOnlyDictionary<string, string?> environment, Action<string> print, CancellationToken cancellationToken)
    {
        var time = _time;
        var pg = PgBinaries.For(environment);
        if (!pg.HasServer)
        {
            throw new LifeboatException(ErrorCode.Config, "PostgreSQL's server programs (initdb, pg_ctl) were not found", $"install PostgreSQL 15 (apt-get install postgresql-15) or set {PgBinaries.Variable}; `lifeboat demo --files` runs the file-tree demo without PostgreSQL");
        }

        var root = Directory.CreateTempSubdirectory("lifeboat-demo-").FullName;
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var total = Stopwatch.StartNew();
        PostgresCluster? cluster = null;
        PostgresCluster? restored = null;
        try
        {
            var pgdata = Path.Combine(root, "pgdata");
            var restoredDir = Path.Combine(root, "restored");
            var repoDir = Path.Combine(root, "repository");
            var keyFile = Path.Combine(root, "repository.key");
            var configPath = Path.Combine(root, "lifeboat.json");
            // The demo works in a workspace of its own (its own configuration, repository and catalog).
            using var scope = _scopes.CreateScope();
            var workspace = new Workspace(ConfigFile.Resolve(configPath, new Dictionary<string, string?>(), root), environment, root);
            scope.ServiceProvider.GetRequiredService<CallContext>().Workspace = workspace;
            T Use<T>()
                where T : notnull => scope.ServiceProvider.GetRequiredService<T>();
            var osUser = PostgresCluster.DefaultOsUser;
            print($"Lifeboat demo in {root}" + (osUser is null ? "" : $" (PostgreSQL runs as '{osUser}')"));

            await Step(print, "1. create a PostgreSQL cluster with data checksums and WAL archiving into an encrypted repository", async () =>
            {
                cluster = await PostgresCluster.InitAsync(pgdata, pg.NewestServer, cancellationToken);
                var key = KeyMaterial.CreateKeyFile(keyFile);
                await using (var repo = await Repo.InitAsync(TargetFactory.Open("file://" + repoDir), new Repository.InitOptions { Key = key }, time, null, cancellationToken))
                {
                }

                var control = PgControl.Read(pgdata);
                workspace.EditConfig(config =>
                {
                    ConfigFile.Section(config, "Repository")["Url"] = "file://" + repoDir;
                    ConfigFile.Section(config, "Repository")["KeyFile"] = keyFile;
                    ConfigFile.Section(config, "Sources")["app-db"] = ConfigJson.Section(new ClusterSourceOptions
                    {
                        PgData = pgdata,
                        Connection = cluster.ConnectionString(),
                        SystemIdentifier = control.SystemIdentifier.ToString(CultureInfo.InvariantCulture),
                    });
                });
                // archive_command runs as the PostgreSQL OS user: it must read the configuration and key, and write WAL.
                PostgresCluster.ChownForServer(repoDir, osUser);
                PostgresCluster.ChownForServer(keyFile, osUser);
                PostgresCluster.ChownForServer(configPath, osUser);
                var archiveCommand = LifeboatCommand.ArchiveCommand(LifeboatCommand.Self(environment), configPath, "app-db");
                cluster.Configure(new Dictionary<string, string>
                {
                    ["wal_level"] = "replica",
                    ["archive_mode"] = "on",
                    ["archive_command"] = archiveCommand,
                    ["archive_timeout"] = "60s",
                });
                await cluster.StartAsync(cancellationToken);
                return $"PostgreSQL on 127.0.0.1:{cluster.Port}, cluster {control.SystemIdentifier}; archive_command = {archiveCommand}";
            });

            await Step(print, "2. load pgbench data (scale 10: 1,000,000 accounts)", async () =>
            {
                var result = await cluster!.RunToolAsync("pgbench", ["-i", "-s", "10", "-q", "postgres"], cancellationToken);
                Require(result, "pgbench -i");
                return $"{await cluster.QueryAsync<long>("select pg_database_size('postgres')", cancellationToken) / 1024 / 1024} MiB database";
            });

            BackupSourceResult? full = null;
            await Step(print, "3. full backup", async () =>
            {
                full = await Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("app-db", "full"), cancellationToken);
                return Describe(full);
            });

            await Step(print, "4. more writes (pgbench, 3 seconds)", async () =>
            {
                var result = await cluster!.RunToolAsync("pgbench", ["-T", "3", "-c", "2", "postgres"], cancellationToken);
                Require(result, "pgbench");
                return result.Output.Split('\n').FirstOrDefault(l => l.StartsWith("number of transactions actually processed", StringComparison.Ordinal))?.Trim() ?? "done";
            });

            await Step(print, "5. incremental backup (only changed blocks are stored)", async () =>
            {
                var incr = await Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("app-db", "incr"), cancellationToken);
                return Describe(incr);
            });

            long countAtT = 0;
            long sumAtT = 0;
            string targetTime = "";
            await Step(print, "6. more writes, then note the time T", async () =>
            {
                var result = await cluster!.RunToolAsync("pgbench", ["-t", "200", "-c", "2", "postgres"], cancellationToken);
                Require(result, "pgbench");
                countAtT = await cluster.QueryAsync<long>("select count(*) from pgbench_accounts", cancellationToken);
                sumAtT = await cluster.QueryAsync<long>("select sum(abalance)::int8 from pgbench_accounts", cancellationToken);
                targetTime = TimeParsing.ToPostgres(await cluster.QueryAsync<DateTime>("select clock_timestamp()", cancellationToken));
                await Task.Delay(TimeSpan.FromMilliseconds(1100), time, cancellationToken);
                return $"T = {targetTime}: pgbench_accounts has {countAtT:N0} rows, sum(abalance) = {sumAtT}";
            });

            await Step(print, "7. the accident: DROP TABLE pgbench_accounts", async () =>
            {
                await cluster!.ExecuteAsync("drop table pgbench_accounts", cancellationToken);
                var segment = await cluster.QueryAsync<string>("select pg_walfile_name(pg_switch_wal())", cancellationToken);
                await using var repo = await Use<RepositoryOpener>().OpenAsync(cancellationToken);
                var archive = new WalArchive(repo, "app-db", workspace.GetSource<ClusterSourceOptions>("app-db").SystemIdValue());
                var waited = Stopwatch.StartNew();
                while (!await archive.ExistsAsync(segment, cancellationToken))
                {
                    if (waited.Elapsed > TimeSpan.FromSeconds(60))
                    {
                        throw new LifeboatException(ErrorCode.Failed, $"WAL segment {segment} was not archived within 60 s; see {cluster.LogFile}");
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
                }

                return $"table dropped; WAL up to {segment} archived";
            });

            var rto = Stopwatch.StartNew();
            await Step(print, "8. restore to T into a new directory (point-in-time recovery)", async () =>
            {
                var outcome = (ClusterRestored)await Use<RestoreSource>().ExecuteAsync(
                    new RestoreSourceRequest { Source = "app-db", To = restoredDir, TargetTime = targetTime, ArchiveMode = "off" },
                    cancellationToken);
                return $"backup {outcome.Backup} restored to {restoredDir}: {outcome.Files} files, {ByteSize.Format(outcome.Bytes)}; recovery to T";
            });

            long countRestored = 0;
            long sumRestored = 0;
            await Step(print, "9. start the restored cluster, let it recover to T, and query it", async () =>
            {
                restored = PostgresCluster.Attach(restoredDir, pg.NewestServer);
                await restored.StartAsync(cancellationToken);
                // The first successful query after recovery is the end of the RTO.
                var deadline = Stopwatch.StartNew();
                while (true)
                {
                    try
                    {
                        if (!await restored.QueryAsync<bool>("select pg_is_in_recovery()", cancellationToken))
                        {
                            countRestored = await restored.QueryAsync<long>("select count(*) from pgbench_accounts", cancellationToken);
                            break;
                        }
                    }
                    catch (Npgsql.NpgsqlException) when (deadline.Elapsed < TimeSpan.FromMinutes(2))
                    {
                    }

                    if (deadline.Elapsed > TimeSpan.FromMinutes(2))
                    {
                        throw new LifeboatException(ErrorCode.Failed, $"the restored cluster did not finish recovery within 2 minutes; see {restored.LogFile}");
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
                }

                rto.Stop();
                sumRestored = await restored.QueryAsync<long>("select sum(abalance)::int8 from pgbench_accounts", cancellationToken);
                return $"promoted on port {restored.Port}: pgbench_accounts has {countRestored:N0} rows, sum(abalance) = {sumRestored}";
            });

            var identical = countRestored == countAtT && sumRestored == sumAtT;
            print(identical
                ? $"RPO: rows lost: 0 (every row of pgbench_accounts as of T is back, balances identical)"
                : $"RPO: DIFFERENT: {countAtT - countRestored} rows missing, balance sum {sumRestored} instead of {sumAtT}");
            print($"RTO: {rto.Elapsed.TotalSeconds:0.0} s from the start of the restore to the first query");
            print(identical
                ? $"Demo passed in {total.Elapsed.TotalSeconds:0.0}s: the dropped table was recovered to the moment before the accident."
                : "Demo FAILED.");
            return identical;
        }
        finally
        {
            if (restored is not null)
            {
                await restored.DisposeAsync();
            }

            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }

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

    private static string Describe(BackupView m)
    {
        var cluster = Postgres.ClusterBackupInfo.FromDetails(m.Details)!;
        return $"backup {m.Id} ({m.Type}): {ByteSize.Format(m.Stats.Bytes)} read {ByteSize.Format(m.Stats.BytesRead)}, stored {ByteSize.Format(m.Stats.StoredBytes)}; LSN {cluster.StartLsn}..{cluster.StopLsn}, WAL archived";
    }

    private static void Require(ProcessResult result, string what)
    {
        if (!result.Success)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"{what} failed: {result.Error.Trim()}");
        }
    }

    private static async Task Step(Action<string> print, string title, Func<Task<string>> action)
    {
        var watch = Stopwatch.StartNew();
        var result = await action();
        print($"{title}\n    {result}  [{watch.Elapsed.TotalSeconds:0.00}s]");
    }
}
