using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Sources;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat source add-files | add-cluster | add-database | add-config | list | remove</c>.</summary>
internal static class SourceCommands
{
    private static readonly Dictionary<string, string> NameField = new() { ["name"] = "NAME" };

    public static IEnumerable<Command> Create(CliApp app)
    {
        var source = new Command("source", "Configure what Lifeboat protects");
        source.Subcommands.Add(AddFiles(app));
        source.Subcommands.Add(ClusterCommands.AddCluster(app));
        source.Subcommands.Add(AddDatabase(app));
        source.Subcommands.Add(AddConfig(app));
        source.Subcommands.Add(List(app));
        source.Subcommands.Add(Remove(app));
        yield return source;
    }

    private static Command AddFiles(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Source name: lower-case letters, digits, '.', '_', '-'" };
        var path = new Option<string>("--path") { Description = "The directory to protect", Required = true, HelpName = "DIR" };
        var include = new Option<string[]>("--include") { Description = "Back up only files matching this glob (repeatable)", HelpName = "GLOB", AllowMultipleArgumentsPerToken = false };
        var exclude = new Option<string[]>("--exclude") { Description = "Skip paths matching this glob (repeatable)", HelpName = "GLOB", AllowMultipleArgumentsPerToken = false };
        var command = new Command("add-files", "Add a directory tree (uploads, documents, logs) as a source") { name, path, include, exclude };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<AddFilesSource>().ExecuteAsync(
                new AddFilesSourceRequest(parse.GetValue(name)!, parse.GetValue(path)!, parse.GetValue(include) ?? [], parse.GetValue(exclude) ?? []),
                ct);
            PrintAdded(call.Output, result);
            return 0;
        }, NameField));
        return command;
    }

    private static Command AddDatabase(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Source name: lower-case letters, digits, '.', '_', '-'" };
        var conn = new Option<string>("--conn") { Description = "How to connect to the server: libpq keyword/value, a postgresql:// URI or Npgsql's form (keep passwords in ~/.pgpass)", Required = true, HelpName = "CONNSTRING" };
        var database = new Option<string>("--database") { Description = "The database to dump", Required = true, HelpName = "DB" };
        var schemaOnly = new Option<bool>("--schema-only") { Description = "Dump the schema only, no rows" };
        var excludeTable = new Option<string[]>("--exclude-table") { Description = "Leave tables matching this pg_dump pattern out entirely (repeatable)", HelpName = "PATTERN", AllowMultipleArgumentsPerToken = false };
        var excludeData = new Option<string[]>("--exclude-table-data") { Description = "Dump the definition but not the rows of tables matching this pattern (repeatable)", HelpName = "PATTERN", AllowMultipleArgumentsPerToken = false };
        var jobs = new Option<int>("--jobs") { Description = "Parallel pg_dump and pg_restore jobs", DefaultValueFactory = _ => 2, HelpName = "N" };
        var command = new Command("add-database", "Add a database as a source of logical backups (pg_dump)") { name, conn, database, schemaOnly, excludeTable, excludeData, jobs };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<AddDatabaseSource>().ExecuteAsync(
                new AddDatabaseSourceRequest(
                    parse.GetValue(name)!,
                    parse.GetValue(conn)!,
                    parse.GetValue(database)!,
                    parse.GetValue(schemaOnly),
                    parse.GetValue(excludeTable) ?? [],
                    parse.GetValue(excludeData) ?? [],
                    parse.GetValue(jobs)),
                ct);
            PrintAdded(call.Output, result);
            return 0;
        }, NameField));
        return command;
    }

    private static Command AddConfig(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Source name: lower-case letters, digits, '.', '_', '-'" };
        var path = new Option<string[]>("--path") { Description = "A file or directory holding configuration or secrets (repeatable, or several after one --path)", Required = true, HelpName = "FILE_OR_DIR", AllowMultipleArgumentsPerToken = true };
        var command = new Command("add-config", "Add configuration files that hold secrets (.env, appsettings.*.json, YAML); always encrypted, contents never printed") { name, path };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<AddConfigSource>().ExecuteAsync(new AddConfigSourceRequest(parse.GetValue(name)!, parse.GetValue(path) ?? []), ct);
            PrintAdded(call.Output, result);
            return 0;
        }, NameField));
        return command;
    }

    private static Command List(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the configured sources") { json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListSources>().ExecuteAsync(new ListSourcesRequest(), ct);
            var output = call.Output;
            if (output.Json)
            {
                output.WriteJson(result.Sources, LifeboatJson.Default.IReadOnlyListSourceSummary);
                return 0;
            }

            if (result.Sources.Count == 0)
            {
                output.Line($"no sources in {result.ConfigPath}; add one with `lifeboat source add-files NAME --path DIR`");
                return 0;
            }

            output.Table(["NAME", "KIND", "WHAT"], result.Sources.Select(s => new[] { s.Name, s.Kind, s.What }));
            return 0;
        }));
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var name = new Argument<string>("NAME");
        var command = new Command("remove", "Remove a source from the configuration (its backups stay in the repository)") { name };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<RemoveSource>().ExecuteAsync(new RemoveSourceRequest(parse.GetValue(name)!), ct);
            call.Output.Line($"removed source '{result.Name}' from {result.ConfigPath}; its backups stay in the repository until they expire or are forgotten");
            return 0;
        }, NameField));
        return command;
    }

    /// <summary>The line of a source added (and what could not be checked, on stderr).</summary>
    internal static void PrintAdded(CliOutput output, AddSourceResult result)
    {
        output.Line($"added source '{result.Name}' ({result.Description}) to {result.ConfigPath}");
        foreach (var warning in result.Warnings)
        {
            output.Warn(warning);
        }
    }
}
