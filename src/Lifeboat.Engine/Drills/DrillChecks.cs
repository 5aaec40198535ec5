using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres.Tools;
using Npgsql;

namespace Lifeboat.Engine.Drills;

/// <summary>The checks every drill with a scratch server runs: pg_amcheck and the smoke queries.</summary>
internal static class DrillChecks
{
    /// <summary>pg_amcheck --all --heapallindexed on every database; returns the time it took.</summary>
    public static async Task<TimeSpan> AmcheckAsync(PostgresCluster server, DrillReport report, IProgress<string>? progress, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        progress?.Report("pg_amcheck --all --heapallindexed");
        var started = time.GetTimestamp();
        var result = await server.RunToolAsync("pg_amcheck", ["--all", "--heapallindexed", "--install-missing"], cancellationToken, timeout);
        var elapsed = time.GetElapsedTime(started);
        var output = string.Join('\n', (result.Output + result.Error).Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(30));
        report.Add(result.Success
            ? new DrillCheck("amcheck", DrillCheckStatus.Passed, "pg_amcheck --all --heapallindexed: the heap of every table and every B-tree index of every database verified, no corruption" + (output.Length == 0 ? "" : "\n" + output), elapsed)
            : new DrillCheck("amcheck", DrillCheckStatus.Failed, $"pg_amcheck --all --heapallindexed exited with {result.ExitCode}:\n{output}", elapsed));
        return elapsed;
    }

    /// <summary>Runs each smoke query and compares its result with the expectation; returns the time they took.</summary>
    public static async Task<TimeSpan> SmokeQueriesAsync(PostgresCluster server, IReadOnlyList<SmokeQueryOptions> queries, string defaultDatabase, DrillReport report, TimeProvider time, CancellationToken cancellationToken)
    {
        var total = TimeSpan.Zero;
        foreach (var query in queries)
        {
            var name = "smoke: " + (query.Name ?? query.Sql);
            var database = query.Database ?? defaultDatabase;
            SmokeExpectation.TryParse(query.Expect, out var expectation, out _);
            var started = time.GetTimestamp();
            DrillCheck check;
            try
            {
                var value = await ScalarAsync<object?>(server, database, query.Sql!, cancellationToken);
                var shown = SmokeExpectation.Format(value) ?? "null";
                check = expectation.IsMetBy(value)
                    ? new DrillCheck(name, DrillCheckStatus.Passed, $"returned {shown} in database '{database}' (expected {expectation})", time.GetElapsedTime(started))
                    : new DrillCheck(name, DrillCheckStatus.Failed, $"returned {shown} in database '{database}', expected {expectation}: {query.Sql}", time.GetElapsedTime(started));
            }
            catch (NpgsqlException ex) when (!cancellationToken.IsCancellationRequested)
            {
                check = new DrillCheck(name, DrillCheckStatus.Failed, $"failed in database '{database}': {ex.Message}: {query.Sql}", time.GetElapsedTime(started));
            }

            total += time.GetElapsedTime(started);
            report.Add(check);
        }

        return total;
    }

    public static async Task<T> ScalarAsync<T>(PostgresCluster server, string database, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString(database));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return (T)(value is DBNull ? null : value)!;
    }
}
