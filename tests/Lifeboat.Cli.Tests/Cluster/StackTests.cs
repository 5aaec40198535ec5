using System.Globalization;
using System.Text.Json;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>Stacks: every source of an application backed up under one id and restored to one consistent point.</summary>
public sealed class StackTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_stack_restore_gives_the_database_and_the_files_from_the_same_point()
    {
        await using var f = await ClusterFixture.StartAsync();
        var uploads = f.Dir.Dir("uploads");
        var settings = f.Dir.Dir("etc-app");
        await File.WriteAllTextAsync(Path.Combine(settings, ".env"), "DB_PASSWORD=stack-secret-4471\n", Ct);
        await f.OkAsync("source", "add-files", "uploads", "--path", uploads);
        await f.OkAsync("source", "add-config", "settings", "--path", settings);
        await f.OkAsync("source", "add-database", "appdb", "--conn", f.Cluster.ConnectionString(), "--database", "postgres");
        await f.OkAsync("stack", "add", "app", "--sources", "uploads,settings,db,appdb");
        await f.ExecAsync("create table attachments (name text primary key)");
        await f.OkAsync("backup", "--source", "db", "--type", "full");

        // The application: every upload is written to disk, then its row committed — all through the stack backup.
        using var stop = new CancellationTokenSource();
        var written = 0;
        var writer = Task.Run(async () =>
        {
            await using var connection = new Npgsql.NpgsqlConnection(f.Cluster.ConnectionString());
            await connection.OpenAsync(Ct);
            while (!stop.IsCancellationRequested)
            {
                var name = "f" + written.ToString("D5", CultureInfo.InvariantCulture);
                await File.WriteAllTextAsync(Path.Combine(uploads, name), name, Ct);
                await using var insert = new Npgsql.NpgsqlCommand("insert into attachments values ($1)", connection) { Parameters = { new() { Value = name } } };
                await insert.ExecuteNonQueryAsync(Ct);
                written++;
                await Task.Delay(5, Ct);
            }
        }, Ct);

        await Task.Delay(300, Ct);
        var backup = await f.OkAsync("backup", "--stack", "app", "--json");
        var record = JsonDocument.Parse(backup.Out).RootElement;
        var stackId = record.GetProperty("id").GetString()!;
        Assert.Equal(["appdb", "db", "uploads", "settings"], record.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("source").GetString()!).ToArray());
        Assert.Equal("lifeboat-stack-" + stackId, record.GetProperty("points")[0].GetProperty("restorePoint").GetString());

        // More uploads after the stack, archived: a restore to the end of the WAL would hold them.
        await Task.Delay(300, Ct);
        await stop.CancelAsync();
        await writer;
        await f.SwitchAndWaitForArchiveAsync();
        var total = await f.QueryAsync<long>("select count(*) from attachments");

        var list = await f.OkAsync("stack", "list", "--backups");
        Assert.Contains(stackId, list.Out, StringComparison.Ordinal);
        Assert.Contains("complete", list.Out, StringComparison.Ordinal);

        var to = f.NewDirectory("restored");
        var restore = await f.OkAsync("restore", "--stack", "app", "--to", to, "--archive-mode", "off");
        Assert.Contains("start, in this order:", restore.Out, StringComparison.Ordinal);
        Assert.Contains($"recovers to name lifeboat-stack-{stackId}", restore.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("stack-secret-4471", restore.All, StringComparison.Ordinal);

        var cluster = await f.StartRestoredAsync(Path.Combine(to, "db"));
        var rows = new List<string>();
        await using (var connection = new Npgsql.NpgsqlConnection(cluster.ConnectionString()))
        {
            await connection.OpenAsync(Ct);
            await using var select = new Npgsql.NpgsqlCommand("select name from attachments order by name", connection);
            await using var reader = await select.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                rows.Add(reader.GetString(0));
            }
        }

        await cluster.StopAsync(Ct);
        var files = Directory.EnumerateFiles(Path.Combine(to, "uploads")).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);

        // Every row the restored database holds names a file that was restored; the rows after the stack are not there.
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Contains(r, files));
        Assert.True(rows.Count < total, $"the restored cluster holds {rows.Count} of {total} rows: it did not stop at the stack's point");
        Assert.True(files.Count >= rows.Count);

        // The dump and the config set of the same stack backup are there too.
        Assert.True(File.Exists(Path.Combine(to, "appdb", "dump", "toc.dat")));
        Assert.True(File.Exists(Path.Combine(to, "appdb", "globals.sql")));
        Assert.Equal("DB_PASSWORD=stack-secret-4471\n", await File.ReadAllTextAsync(Path.Combine(to, "settings", settings.TrimStart('/'), ".env"), Ct));

        // The same point again, by id, into another directory; a non-empty directory is refused.
        var again = await f.RunAsync("restore", "--stack", "app", "--to", to);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("not empty", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stack_naming_an_unknown_or_unreadable_source_is_refused_before_anything_is_written()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var configBefore = await File.ReadAllTextAsync(f.Dir.Combine("lifeboat.json"), Ct);

        var unknown = await f.Cli.RunAsync("stack", "add", "site", "--sources", "app,nope");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("nope", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(configBefore, await File.ReadAllTextAsync(f.Dir.Combine("lifeboat.json"), Ct));

        var missingStack = await f.Cli.RunAsync("backup", "--stack", "site");
        Assert.Equal(2, missingStack.ExitCode);
        Assert.Contains("no stack 'site'", missingStack.Error, StringComparison.Ordinal);

        var gone = f.Dir.Dir("gone");
        await f.Cli.OkAsync("source", "add-files", "gone", "--path", gone);
        await f.Cli.OkAsync("stack", "add", "site", "--sources", "app,gone");
        Directory.Delete(gone);
        var bad = await f.Cli.RunAsync("backup", "--stack", "site");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains(gone, bad.Error, StringComparison.Ordinal);
        var list = await f.Cli.OkAsync("list", "--json");
        Assert.Equal(0, JsonDocument.Parse(list.Out).RootElement.GetProperty("backups").GetArrayLength());

        var both = await f.Cli.RunAsync("backup", "--stack", "site", "--source", "app");
        Assert.Equal(2, both.ExitCode);

        var remove = await f.Cli.RunAsync("source", "remove", "app");
        Assert.Equal(2, remove.ExitCode);
        Assert.Contains("stack(s) site", remove.Error, StringComparison.Ordinal);
    }
}
