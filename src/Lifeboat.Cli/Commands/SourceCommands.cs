using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat source add-files | list | remove</c>.</summary>
internal static class SourceCommands
{
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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, (context, output) =>
        {
            var sourceName = parse.GetValue(name)!;
            SourceNames.Validate(sourceName, "source name");
            var options = new SourceOptions
            {
                Kind = SourceKinds.Files,
                Path = context.ResolvePath(parse.GetValue(path)!),
                Include = (parse.GetValue(include) ?? []).ToList(),
                Exclude = (parse.GetValue(exclude) ?? []).ToList(),
            };
            foreach (var glob in options.Include.Concat(options.Exclude))
            {
                _ = new GlobPattern(glob);
            }

            FilesBackup.CheckSourcePath(sourceName, options);
            AddSource(context.ConfigFile, context.ConfigFile.Exists ? context.Options : null, sourceName, new JsonObject
            {
                ["Kind"] = options.Kind,
                ["Path"] = options.Path,
                ["Include"] = new JsonArray(options.Include.Select(i => (JsonNode?)i).ToArray()),
                ["Exclude"] = new JsonArray(options.Exclude.Select(i => (JsonNode?)i).ToArray()),
            });
            output.Line($"added source '{sourceName}' (files, {options.Path}) to {context.ConfigFile.Path}");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command AddDatabase(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Source name: lower-case letters, digits, '.', '_', '-'" };
        var conn = new Option<string>("--conn") { Description = "Npgsql connection string to the server (keep passwords in ~/.pgpass)", Required = true, HelpName = "CONNSTRING" };
        var database = new Option<string>("--database") { Description = "The database to dump", Required = true, HelpName = "DB" };
        var schemaOnly = new Option<bool>("--schema-only") { Description = "Dump the schema only, no rows" };
        var excludeTable = new Option<string[]>("--exclude-table") { Description = "Leave tables matching this pg_dump pattern out entirely (repeatable)", HelpName = "PATTERN", AllowMultipleArgumentsPerToken = false };
        var excludeData = new Option<string[]>("--exclude-table-data") { Description = "Dump the definition but not the rows of tables matching this pattern (repeatable)", HelpName = "PATTERN", AllowMultipleArgumentsPerToken = false };
        var jobs = new Option<int>("--jobs") { Description = "Parallel pg_dump and pg_restore jobs", DefaultValueFactory = _ => 2, HelpName = "N" };
        var command = new Command("add-database", "Add a database as a source of logical backups (pg_dump)") { name, conn, database, schemaOnly, excludeTable, excludeData, jobs };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var sourceName = parse.GetValue(name)!;
            SourceNames.Validate(sourceName, "source name");
            var options = new SourceOptions
            {
                Kind = SourceKinds.Database,
                Connection = parse.GetValue(conn)!,
                Database = parse.GetValue(database)!,
                SchemaOnly = parse.GetValue(schemaOnly),
                ExcludeTables = (parse.GetValue(excludeTable) ?? []).ToList(),
                ExcludeTableData = (parse.GetValue(excludeData) ?? []).ToList(),
                Jobs = parse.GetValue(jobs),
            };
            options.Validate(sourceName, context.ConfigFile.Path);
            var (info, pgDump) = await Engine.Logical.LogicalBackup.CheckSourceAsync(sourceName, options, ct);
            var definition = new JsonObject
            {
                ["Kind"] = options.Kind,
                ["Connection"] = options.Connection,
                ["Database"] = options.Database,
                ["Jobs"] = options.Jobs,
            };
            if (options.SchemaOnly)
            {
                definition["SchemaOnly"] = true;
            }

            if (options.ExcludeTables.Count > 0)
            {
                definition["ExcludeTables"] = new JsonArray(options.ExcludeTables.Select(t => (JsonNode?)t).ToArray());
            }

            if (options.ExcludeTableData.Count > 0)
            {
                definition["ExcludeTableData"] = new JsonArray(options.ExcludeTableData.Select(t => (JsonNode?)t).ToArray());
            }

            AddSource(context.ConfigFile, context.ConfigFile.Exists ? context.Options : null, sourceName, definition);
            output.Line($"added source '{sourceName}' (database '{info.Name}', {ByteSize.Format(info.Size)}, PostgreSQL {info.ServerVersion}; {pgDump}) to {context.ConfigFile.Path}");
            return 0;
        }));
        return command;
    }

    private static Command AddConfig(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Source name: lower-case letters, digits, '.', '_', '-'" };
        var path = new Option<string[]>("--path") { Description = "A file or directory holding configuration or secrets (repeatable, or several after one --path)", Required = true, HelpName = "FILE_OR_DIR", AllowMultipleArgumentsPerToken = true };
        var command = new Command("add-config", "Add configuration files that hold secrets (.env, appsettings.*.json, YAML); always encrypted, contents never printed") { name, path };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var sourceName = parse.GetValue(name)!;
            SourceNames.Validate(sourceName, "source name");
            var options = new SourceOptions
            {
                Kind = SourceKinds.Config,
                Paths = (parse.GetValue(path) ?? []).Select(context.ResolvePath).Distinct(StringComparer.Ordinal).ToList(),
            };
            options.Validate(sourceName, context.ConfigFile.Path);
            ConfigBackup.Check(sourceName, options, null);
            if (context.ConfigFile.Exists && context.Options.Repository.Url is not null)
            {
                await using var repository = await context.OpenRepositoryAsync(ct);
                ConfigBackup.Check(sourceName, options, repository);
            }

            AddSource(context.ConfigFile, context.ConfigFile.Exists ? context.Options : null, sourceName, new JsonObject
            {
                ["Kind"] = options.Kind,
                ["Paths"] = new JsonArray(options.Paths.Select(p => (JsonNode?)p).ToArray()),
            });
            output.Line($"added source '{sourceName}' (config, {string.Join(", ", options.Paths)}) to {context.ConfigFile.Path}");
            return 0;
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the configured sources") { json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, (context, output) =>
        {
            var sources = context.Options.Sources.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
            if (output.Json)
            {
                output.WriteJson(new JsonArray(sources.Select(s => (JsonNode)new JsonObject
                {
                    ["name"] = s.Key,
                    ["kind"] = s.Value.Kind,
                    ["path"] = s.Value.Path ?? s.Value.PgData,
                    ["paths"] = s.Value.Kind == SourceKinds.Config ? new JsonArray(s.Value.Paths.Select(p => (JsonNode?)p).ToArray()) : null,
                    ["database"] = s.Value.Database,
                    ["include"] = new JsonArray(s.Value.Include.Select(i => (JsonNode?)i).ToArray()),
                    ["exclude"] = new JsonArray(s.Value.Exclude.Select(i => (JsonNode?)i).ToArray()),
                }).ToArray()));
                return Task.FromResult(0);
            }

            if (sources.Count == 0)
            {
                output.Line($"no sources in {context.ConfigFile.Path}; add one with `lifeboat source add-files NAME --path DIR`");
                return Task.FromResult(0);
            }

            output.Table(["NAME", "KIND", "WHAT"], sources.Select(s => new[] { s.Key, s.Value.Kind, Describe(s.Value) }));
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var name = new Argument<string>("NAME");
        var command = new Command("remove", "Remove a source from the configuration (its backups stay in the repository)") { name };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, (context, output) =>
        {
            var sourceName = parse.GetValue(name)!;
            context.GetSource(sourceName);
            var stacks = context.Options.Stacks.Where(s => s.Value.Sources.Contains(sourceName)).Select(s => s.Key).ToList();
            var schedules = context.Options.Schedules.Where(s => s.Value.Source == sourceName).Select(s => s.Key).ToList();
            if (stacks.Count > 0 || schedules.Count > 0)
            {
                throw new LifeboatException(ErrorCode.Refused, $"source '{sourceName}' is used by " + string.Join(" and ", new[] { stacks.Count > 0 ? "the stack(s) " + string.Join(", ", stacks) : null, schedules.Count > 0 ? "the schedule(s) " + string.Join(", ", schedules) : null }.Where(x => x is not null)), "remove it from those first (`lifeboat stack remove`, or edit the configuration)");
            }

            context.ConfigFile.Edit(root => ConfigFile.Section(root, "Sources").Remove(sourceName));
            output.Line($"removed source '{sourceName}' from {context.ConfigFile.Path}; its backups stay in the repository until they expire or are forgotten");
            return Task.FromResult(0);
        }));
        return command;
    }

    internal static void AddSource(ConfigFile file, LifeboatOptions? current, string name, JsonObject definition)
    {
        if (current is not null && current.Sources.ContainsKey(name))
        {
            throw new LifeboatException(ErrorCode.Refused, $"a source named '{name}' already exists in {file.Path}", $"choose another name, or remove it first with `lifeboat source remove {name}`");
        }

        file.Edit(root => ConfigFile.Section(root, "Sources")[name] = definition);
    }

    private static string Describe(SourceOptions source)
    {
        var filters = (source.Include.Count > 0 ? " include " + string.Join(' ', source.Include) : "") + (source.Exclude.Count > 0 ? " exclude " + string.Join(' ', source.Exclude) : "");
        return source.Kind switch
        {
            SourceKinds.Cluster => $"{source.PgData} (system id {source.SystemIdentifier})",
            SourceKinds.Database => $"database {source.Database}" + (source.SchemaOnly ? " (schema only)" : ""),
            SourceKinds.Config => string.Join(", ", source.Paths),
            _ => (source.Path ?? "") + filters,
        };
    }
}
