using Npgsql;

namespace Lifeboat.Postgres.Server;

/// <summary>
/// Exact row counts (count(*)) of a database's tables in one REPEATABLE READ, READ ONLY transaction. At backup time
/// the first statement reads the WAL insert position and the clock in the same snapshot, so the counts describe the
/// database as WAL replay leaves it at that position; a drill counts the same tables in the restored cluster.
/// </summary>
public static class RowCounter
{
    /// <summary>
    /// Counts the permanent (logged) ordinary tables and partitions outside the system schemas that the role may read —
    /// unlogged tables come back empty from any physical restore — or only the <paramref name="limit"/> largest by
    /// pg_class.reltuples. Never throws for a PostgreSQL error: the snapshot then carries <see cref="RowCountSnapshot.Error"/>.
    /// </summary>
    public static async Task<RowCountSnapshot> SnapshotAsync(NpgsqlConnection connection, int? limit, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var database = connection.Database;
        try
        {
            await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            await ExecuteAsync(connection, tx, "SET TRANSACTION READ ONLY", cancellationToken);
            string lsn;
            DateTimeOffset at;
            // The first statement takes the snapshot; the position and the time are read inside it.
            await using (var cmd = new NpgsqlCommand("select pg_current_wal_insert_lsn()::text, clock_timestamp()", connection, tx))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                await r.ReadAsync(cancellationToken);
                lsn = r.GetString(0);
                at = r.GetFieldValue<DateTimeOffset>(1);
            }

            var tables = new List<(string Schema, string Table)>();
            var skipped = 0;
            await using (var cmd = new NpgsqlCommand(
                """
                select n.nspname, c.relname, has_table_privilege(c.oid, 'SELECT')
                from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where c.relkind = 'r' and c.relpersistence = 'p'
                  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_toast%' and n.nspname not like 'pg\_temp%'
                order by c.reltuples desc, c.relpages desc, n.nspname, c.relname
                """,
                connection,
                tx))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                while (await r.ReadAsync(cancellationToken))
                {
                    if (!r.GetBoolean(2))
                    {
                        skipped++;
                    }
                    else if (limit is null || tables.Count < limit)
                    {
                        tables.Add((r.GetString(0), r.GetString(1)));
                    }
                }
            }

            var counts = new List<TableRowCount>();
            foreach (var (schema, table) in tables)
            {
                counts.Add(new TableRowCount(schema, table, await CountAsync(connection, tx, schema, table, cancellationToken)));
            }

            await tx.CommitAsync(cancellationToken);
            return new RowCountSnapshot
            {
                Database = database,
                Lsn = lsn,
                Time = at,
                Limit = limit,
                Tables = [.. counts.OrderBy(c => c.Schema, StringComparer.Ordinal).ThenBy(c => c.Table, StringComparer.Ordinal)],
                Skipped = skipped,
                ElapsedMs = (long)time.GetElapsedTime(started).TotalMilliseconds,
            };
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            return new RowCountSnapshot { Database = database, Lsn = "", Limit = limit, ElapsedMs = (long)time.GetElapsedTime(started).TotalMilliseconds, Error = ex.Message };
        }
    }

    /// <summary>
    /// Counts the given tables in one REPEATABLE READ snapshot (a restored cluster, in recovery or promoted). A table
    /// that does not exist counts as null.
    /// </summary>
    public static async Task<Dictionary<(string Schema, string Table), long?>> CountAsync(NpgsqlConnection connection, IEnumerable<(string Schema, string Table)> tables, CancellationToken cancellationToken)
    {
        var result = new Dictionary<(string, string), long?>();
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        foreach (var (schema, table) in tables)
        {
            await using (var exists = new NpgsqlCommand("select to_regclass(format('%I.%I', @s, @t)) is not null", connection, tx))
            {
                exists.Parameters.AddWithValue("s", schema);
                exists.Parameters.AddWithValue("t", table);
                if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
                {
                    result[(schema, table)] = null;
                    continue;
                }
            }

            result[(schema, table)] = await CountAsync(connection, tx, schema, table, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string schema, string table, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"select count(*) from {QuoteIdentifier(schema)}.{QuoteIdentifier(table)}", connection, tx) { CommandTimeout = 0 };
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>An SQL identifier, always double-quoted (quote_ident's rule for quotes inside).</summary>
    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
