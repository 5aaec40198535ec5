using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// `lifeboat runbook` against a real installation: a cluster archiving WAL, a file tree, a stack, real backups and a
/// drill. The runbook must state what is true (the window, the drill and its RTO, the key's place and the warnings) and
/// every command it prints must be a valid command line; some are run as the runbook writes them.
/// </summary>
public sealed class RunbookTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The words of a command line as the POSIX shell splits it (single and double quotes, backslash-escaped quotes).</summary>
    private static List<string> ShellWords(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\'')
            {
                var end = line.IndexOf('\'', i + 1);
                word.Append(line, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (c == '"')
            {
                var end = line.IndexOf('"', i + 1);
                word.Append(line, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (c == ' ')
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private static List<string> LifeboatCommands(string markdown)
        => markdown.Split('\n').Where(l => l.StartsWith("lifeboat ", StringComparison.Ordinal)).Distinct().ToList();

    [Fact]
    public async Task The_runbook_of_a_real_installation_states_its_window_drill_and_keys_and_every_command_it_prints_parses_and_runs()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int primary key, v text); insert into t select g, 'v' || g from generate_series(1, 500) g");
        var uploads = f.Dir.Dir("uploads");
        await File.WriteAllTextAsync(Path.Combine(uploads, "a.txt"), "a", Ct);
        await f.OkAsync("source", "add-files", "uploads", "--path", uploads);
        await f.OkAsync("stack", "add", "shop", "--sources", "db,uploads");
        var root = JsonNode.Parse(File.ReadAllText(f.ConfigPath))!.AsObject();
        Directory.CreateDirectory(f.Dir.Combine("scratch"));
        File.SetUnixFileMode(f.Dir.Combine("scratch"), (UnixFileMode)0b111_101_101);
        root["Drill"] = new JsonObject { ["ScratchDirectory"] = f.Dir.Combine("scratch"), ["ReportsDirectory"] = f.Dir.Combine("reports"), ["Timeout"] = "00:05:00" };
        root["Sources"]!["db"]!["Rto"] = "00:10:00";
        File.WriteAllText(f.ConfigPath, root.ToJsonString());
        await f.OkAsync("backup", "--source", "db", "--type", "full");
        await f.OkAsync("backup", "--source", "uploads");
        await f.SwitchAndWaitForArchiveAsync();
        var drill = JsonDocument.Parse((await f.OkAsync("drill", "--source", "db", "--json")).Out).RootElement;
        var drillId = drill.GetProperty("id").GetString()!;

        var result = await f.OkAsync("runbook");
        var md = result.Out;
        var json = JsonDocument.Parse((await f.OkAsync("runbook", "--json")).Out).RootElement;

        // The facts, as they are now.
        foreach (var title in new[] { "The host is lost", "The database is corrupted", "A table was dropped or rows were deleted", "Uploaded files are lost", "Configuration or secrets are lost", "The primary target is lost", "The host is compromised (ransomware)", "A PostgreSQL upgrade failed" })
        {
            Assert.Contains("## " + title + "\n", md, StringComparison.Ordinal);
        }

        Assert.Equal(8, json.GetProperty("scenarios").GetArrayLength());
        var db = json.GetProperty("sources").EnumerateArray().First(s => s.GetProperty("name").GetString() == "db");
        Assert.Equal(drillId, db.GetProperty("lastProvenDrill").GetString());
        Assert.True(db.GetProperty("measuredRtoSeconds").GetDouble() > 0);
        Assert.Equal(600, db.GetProperty("rtoObjectiveSeconds").GetDouble());
        Assert.Contains($"(drill {drillId}, ", md, StringComparison.Ordinal);
        Assert.Contains(" s (objective 600 s) |", md, StringComparison.Ordinal);
        var window = db.GetProperty("window")[0];
        Assert.Equal(1, window.GetProperty("timeline").GetInt32());
        Assert.Contains($"timeline 1 from {window.GetProperty("earliest").GetDateTimeOffset().ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z to ", md, StringComparison.Ordinal);
        Assert.Contains($"the key file {f.Dir.Combine("repo.key")} on ", md, StringComparison.Ordinal);
        var warnings = json.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        Assert.Contains(warnings, w => w.StartsWith("the repository has one key slot (", StringComparison.Ordinal) && w.Contains("if this host is lost, nothing can open the backups", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith($"the only copy of the repository is file://{f.RepoPath}, on this host", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("source 'uploads' has never been proven restorable by a drill", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.StartsWith("source 'db'", StringComparison.Ordinal));
        Assert.Contains("warning: the repository has one key slot", result.Error, StringComparison.Ordinal);

        // Every lifeboat command parses with the command line's own parser: every command, flag and value is valid.
        var commands = LifeboatCommands(md);
        Assert.True(commands.Count >= 15, $"only {commands.Count} commands:\n{string.Join('\n', commands)}");
        var prefix = $"lifeboat --config {f.ConfigPath} ";
        var parser = new CliApp(new CliEnvironment { Out = TextWriter.Null, Error = TextWriter.Null, Variables = new Dictionary<string, string?>(), WorkingDirectory = f.Dir.Path }).CreateRoot();
        foreach (var command in commands)
        {
            Assert.StartsWith(prefix, command, StringComparison.Ordinal);
            var errors = parser.Parse(ShellWords(command).Skip(1).ToArray()).Errors;
            Assert.True(errors.Count == 0, $"the runbook printed a command that does not parse: {command}\n{string.Join('\n', errors.Select(e => e.Message))}");
        }

        Assert.NotEmpty(parser.Parse(ShellWords(prefix + "restore --source db --bogus").Skip(1).ToArray()).Errors); // the check above can fail

        // Some run as printed: list, the key slots, the copy restored beside a corrupted cluster (which does not archive).
        foreach (var command in commands.Where(c => c == prefix + "list" || c == prefix + "repo key list"))
        {
            await f.Cli.OkAsync([.. ShellWords(command).Skip(1)]);
        }

        var copyRestore = commands.Single(c => c == $"{prefix}restore --source db --to {f.PgData}.restored");
        await f.Cli.OkAsync([.. ShellWords(copyRestore).Skip(1)]);
        Assert.Contains("archive mode: off\n", File.ReadAllText(Path.Combine(f.PgData + ".restored", "lifeboat_restored_copy")), StringComparison.Ordinal);

        // The rows-lost command, with TABLE and TIME filled in as the operator would: the table comes back.
        var beforeAccident = Lifeboat.Core.TimeParsing.ToPostgres(await f.QueryAsync<DateTime>("select clock_timestamp()"));
        await Task.Delay(1100, Ct);
        await f.ExecAsync("delete from t where id > 10");
        await f.SwitchAndWaitForArchiveAsync();
        var rowsLost = commands.Single(c => c.Contains(" --into postgres_restored --table TABLE ", StringComparison.Ordinal));
        var filled = ShellWords(rowsLost).Skip(1).Select(w => w == "TABLE" ? "t" : w.StartsWith("TIME ", StringComparison.Ordinal) ? beforeAccident : w).ToList();
        await f.Cli.OkAsync([.. filled, "--scratch", f.Dir.Dir("object-scratch")]);
        Assert.Equal(500L, await f.Cluster.QueryAsync<long>("select count(*) from t", Ct, "postgres_restored"));
    }

    [Fact]
    public async Task A_stack_runbook_restores_the_stack_and_the_html_form_is_escaped()
    {
        await using var f = await ClusterFixture.StartAsync();
        var uploads = f.Dir.Dir("uploads");
        await f.OkAsync("source", "add-files", "uploads", "--path", uploads);
        await f.OkAsync("stack", "add", "shop", "--sources", "db,uploads");

        var md = (await f.OkAsync("runbook", "--stack", "shop")).Out;
        Assert.Contains($"lifeboat --config {f.ConfigPath} restore --stack shop --to /srv/shop-restored\n", md, StringComparison.Ordinal);
        Assert.Contains("| db | cluster |", md, StringComparison.Ordinal);
        Assert.Contains("| uploads | files |", md, StringComparison.Ordinal);

        var file = f.Dir.Combine("runbook.html");
        var written = await f.OkAsync("runbook", "--source", "db", "--format", "html", "--output", file);
        Assert.Contains($"to {file}", written.Out, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(file, Ct);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<h2 id=\"rows-lost\">", html, StringComparison.Ordinal);
        Assert.Contains("pg_ctl -D " + f.PgData + ".restored -o &quot;-p 5433&quot; start", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<td>uploads</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>db</td>", html, StringComparison.Ordinal);

        var both = await f.RunAsync("runbook", "--source", "db", "--stack", "shop");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("give --source or --stack, not both", both.Error, StringComparison.Ordinal);
        var unknown = await f.RunAsync("runbook", "--source", "nope");
        Assert.Equal(2, unknown.ExitCode);
    }
}
