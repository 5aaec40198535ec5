using System.Text.Json;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>Logical backups of a database (pg_dump -Fd into the repository) and restores of it or some of its tables.</summary>
public sealed class LogicalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Tables = ["customers", "orders", "notes"];

    [Fact]
    public async Task A_database_round_trips_table_by_table_and_a_second_dump_stores_almost_nothing()
    {
        await using var f = await ClusterFixture.StartAsync(archiving: false);
        var db = f.Cluster;
        await f.ExecAsync("create database shop");
        await db.ExecuteAsync(
            """
            create table customers (id int primary key, name text not null);
            create table orders (id bigserial primary key, customer_id int not null references customers, amount numeric(12,2), placed timestamptz default now());
            create index orders_customer on orders (customer_id);
            create table notes (id int primary key, body jsonb);
            create view big_orders as select * from orders where amount > 900;
            insert into customers select g, 'customer ' || g from generate_series(1, 2000) g;
            insert into orders (customer_id, amount) select 1 + g % 2000, (g * 7919 % 100000) / 100.0 from generate_series(1, 60000) g;
            insert into notes select g, jsonb_build_object('n', g, 'text', md5(g::text)) from generate_series(1, 5000) g;
            """,
            Ct,
            "shop");
        await f.OkAsync("source", "add-database", "shop", "--conn", db.ConnectionString("shop"), "--database", "shop");

        var first = JsonDocument.Parse((await f.OkAsync("backup", "--source", "shop", "--json")).Out).RootElement;
        var second = JsonDocument.Parse((await f.OkAsync("backup", "--source", "shop", "--json")).Out).RootElement;
        var firstStored = first.GetProperty("stats").GetProperty("storedBytes").GetInt64();
        var secondStored = second.GetProperty("stats").GetProperty("storedBytes").GetInt64();
        Assert.True(secondStored < firstStored / 20, $"the second dump of an unchanged database stored {secondStored} bytes (the first {firstStored})");

        var info = await f.OkAsync("info", second.GetProperty("id").GetString()!);
        Assert.Contains("public.orders", info.Out, StringComparison.Ordinal);

        // Everything, into a new database: every table equal row for row.
        await f.OkAsync("restore", "--source", "shop", "--database", "shop", "--into", "shop_copy");
        foreach (var table in Tables)
        {
            Assert.Equal(await DigestAsync(db, "shop", table), await DigestAsync(db, "shop_copy", table));
        }

        Assert.Equal(await db.QueryAsync<long>("select count(*) from big_orders", Ct, "shop"), await db.QueryAsync<long>("select count(*) from big_orders", Ct, "shop_copy"));

        // One table: its rows, its index and its sequence; no other table, and no foreign key to a table left out.
        await f.OkAsync("restore", "--source", "shop", "--database", "shop", "--into", "shop_orders", "--table", "orders");
        Assert.Equal(await DigestAsync(db, "shop", "orders"), await DigestAsync(db, "shop_orders", "orders"));
        Assert.Equal("absent", await db.QueryAsync<string>("select coalesce(to_regclass('public.customers')::text, 'absent')", Ct, "shop_orders"));
        Assert.Equal("orders_customer", await db.QueryAsync<string>("select indexname::text from pg_indexes where tablename = 'orders' and indexname = 'orders_customer'", Ct, "shop_orders"));
        Assert.Equal(60001L, await db.QueryAsync<long>("select nextval('orders_id_seq')", Ct, "shop_orders"));

        // Bad input: exit 2, and nothing created or changed.
        var noTable = await f.RunAsync("restore", "--source", "shop", "--database", "shop", "--into", "shop_bad", "--table", "invoices");
        Assert.Equal(2, noTable.ExitCode);
        Assert.Contains("table 'invoices' is not in backup ", noTable.Error, StringComparison.Ordinal);
        Assert.Contains("public.customers", noTable.Error, StringComparison.Ordinal);
        Assert.Contains("public.orders", noTable.Error, StringComparison.Ordinal);
        Assert.False(await db.QueryAsync<bool>("select exists (select from pg_database where datname = 'shop_bad')", Ct));

        await db.ExecuteAsync("delete from notes where id > 10", Ct, "shop_copy");
        var exists = await f.RunAsync("restore", "--source", "shop", "--database", "shop", "--into", "shop_copy");
        Assert.Equal(2, exists.ExitCode);
        Assert.Contains("shop_copy", exists.Error, StringComparison.Ordinal);
        Assert.Equal(10L, await db.QueryAsync<long>("select count(*) from notes", Ct, "shop_copy"));

        // --clean --force replaces the objects of an existing database.
        await f.OkAsync("restore", "--source", "shop", "--database", "shop", "--into", "shop_copy", "--clean", "--force");
        Assert.Equal(await DigestAsync(db, "shop", "notes"), await DigestAsync(db, "shop_copy", "notes"));

        var manifestsBefore = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Count();
        var ghost = await f.RunAsync("source", "add-database", "ghost", "--conn", db.ConnectionString(), "--database", "no_such_db");
        Assert.Equal(2, ghost.ExitCode);
        Assert.Contains("no_such_db", ghost.Error, StringComparison.Ordinal);
        Assert.Equal(manifestsBefore, Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Count());
        Assert.DoesNotContain("ghost", await File.ReadAllTextAsync(f.ConfigPath, Ct), StringComparison.Ordinal);

        // A database dropped after the source was added: the backup refuses before touching the repository.
        await f.OkAsync("source", "add-database", "gone", "--conn", db.ConnectionString(), "--database", "shop_orders");
        await db.ExecuteAsync("drop database shop_orders", Ct);
        var gone = await f.RunAsync("backup", "--source", "gone");
        Assert.Equal(2, gone.ExitCode);
        Assert.Contains("shop_orders", gone.Error, StringComparison.Ordinal);
        var checkGone = await f.RunAsync("check", "--source", "gone");
        Assert.NotEqual(0, checkGone.ExitCode);
        Assert.Contains("shop_orders", checkGone.All, StringComparison.Ordinal);
        var checkShop = await f.OkAsync("check", "--source", "shop");
        Assert.Contains("database 'shop'", checkShop.Out, StringComparison.Ordinal);
        Assert.Equal(manifestsBefore, Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Count());
    }

    [Fact]
    public async Task A_table_comes_back_from_a_physical_backup_at_a_point_in_time_while_the_live_cluster_runs()
    {
        await using var f = await ClusterFixture.StartAsync();
        var db = f.Cluster;
        await f.ExecAsync("create database shop");
        await db.ExecuteAsync(
            """
            create table customers (id int primary key, name text);
            create table orders (id serial primary key, customer_id int references customers, amount int);
            insert into customers select g, 'c' || g from generate_series(1, 50) g;
            insert into orders (customer_id, amount) select 1 + g % 50, g from generate_series(1, 100) g;
            do $$ begin for i in 1..22 loop execute format('create table extra_%s (id int)', lpad(i::text, 2, '0')); end loop; end $$;
            """,
            Ct,
            "shop");
        await f.OkAsync("backup", "--source", "db", "--type", "full");
        await db.ExecuteAsync("insert into orders (customer_id, amount) select 1, g from generate_series(101, 200) g", Ct, "shop");
        var beforeAccident = Lifeboat.Core.TimeParsing.ToPostgres(await db.QueryAsync<DateTime>("select clock_timestamp()", Ct));
        var expected = await DigestAsync(db, "shop", "orders");
        await Task.Delay(1100, Ct);
        await db.ExecuteAsync("delete from orders where amount > 10", Ct, "shop");
        await f.SwitchAndWaitForArchiveAsync();

        var scratch = f.Dir.Dir("scratch");
        var restore = await f.OkAsync("restore", "--source", "db", "--database", "shop", "--into", "shop_orders", "--table", "orders", "--target-time", beforeAccident, "--scratch", scratch);
        Assert.Contains("shop_orders", restore.Out, StringComparison.Ordinal);
        Assert.Equal(expected, await DigestAsync(db, "shop_orders", "orders"));
        Assert.Equal("absent", await db.QueryAsync<string>("select coalesce(to_regclass('public.customers')::text, 'absent')", Ct, "shop_orders"));

        // The live cluster kept running and kept its data; the scratch cluster is gone.
        Assert.Equal(10L, await db.QueryAsync<long>("select count(*) from orders", Ct, "shop"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));

        // Issue 19, item 9: a table that is not there is named with the tables that are (the first 20, then how many more).
        var noTable = await f.RunAsync("restore", "--source", "db", "--database", "shop", "--into", "shop_bad", "--table", "invoices", "--scratch", scratch);
        Assert.Equal(2, noTable.ExitCode);
        Assert.Contains(
            "has no table 'invoices' at ",
            noTable.Error,
            StringComparison.Ordinal);
        Assert.Contains(
            "(it has public.customers, " + string.Join(", ", Enumerable.Range(1, 19).Select(i => $"public.extra_{i:00}")) + " and 4 more)",
            noTable.Error,
            StringComparison.Ordinal);
        var noDatabase = await f.RunAsync("restore", "--source", "db", "--database", "crm", "--into", "shop_bad", "--scratch", scratch);
        Assert.Equal(2, noDatabase.ExitCode);
        Assert.Contains("crm", noDatabase.Error, StringComparison.Ordinal);
        Assert.False(await db.QueryAsync<bool>("select exists (select from pg_database where datname = 'shop_bad')", Ct));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
        Assert.DoesNotContain(Directory.EnumerateDirectories("/proc").Where(p => char.IsAsciiDigit(Path.GetFileName(p)[0])), p => SafeRead(Path.Combine(p, "cmdline")).Contains(scratch, StringComparison.Ordinal));
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static Task<string> DigestAsync(Lifeboat.Postgres.Tools.PostgresCluster cluster, string database, string table)
        => cluster.QueryAsync<string>($"select coalesce(md5(string_agg(t::text, '|' order by id)), 'empty') from {table} t", Ct, database);
}
