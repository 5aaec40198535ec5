using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Repositories;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat repo init | key add|list|remove | unlock | rebuild-index | target …</c>.</summary>
internal static class RepoCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var repo = new Command("repo", "Create and look after a repository");
        repo.Subcommands.Add(Init(app));
        repo.Subcommands.Add(Key(app));
        repo.Subcommands.Add(Unlock(app));
        repo.Subcommands.Add(RebuildIndex(app));
        repo.Subcommands.Add(TargetCommands.RepoTarget(app));
        yield return repo;
    }

    private static Command Init(CliApp app)
    {
        var url = new Option<string>("--repo") { Description = "Repository URL: file:///abs/path (s3://, azure://, sftp:// in later releases)", Required = true, HelpName = "URL" };
        var noEncryption = new Option<bool>("--insecure-no-encryption") { Description = "Store data unencrypted (integrity checks only): anyone who can read the target can read the backups" };
        var level = new Option<int>("--compression-level") { Description = "zstd level for new data, 1-19", DefaultValueFactory = _ => 3 };
        var packSize = new Option<string>("--pack-size") { Description = "Target pack size", DefaultValueFactory = _ => "32MiB", HelpName = "SIZE" };
        var command = new Command("init", "Create a repository and record it in the configuration file") { url, noEncryption, level, packSize };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<InitRepository>().ExecuteAsync(
                new InitRepositoryRequest(parse.GetValue(url)!, parse.GetValue(noEncryption), parse.GetValue(level), parse.GetValue(packSize)!),
                ct);
            var output = call.Output;
            if (result.CreatedKeyFile is { } created)
            {
                output.Note($"created key file {created}: keep a copy off this machine; without a key the backups cannot be read");
            }

            output.Line($"created repository {result.Repository}");
            output.Line($"  id          {result.Id}");
            output.Line($"  encryption  {result.Encryption}{(result.KeySlot is { } slot ? $" (key slot {slot[..8]}, {result.KeyKind})" : "")}");
            output.Line($"  compression zstd level {result.CompressionLevel}, packs of {CliOutput.Size(result.PackSize)}");
            output.Line($"configuration written to {result.ConfigPath}");
            return 0;
        }));
        return command;
    }

    private static Command Key(CliApp app)
    {
        var key = new Command("key", "Manage the passphrases and key files that open the repository");

        var json = JsonOption();
        var list = new Command("list", "List key slots") { json };
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListKeys>().ExecuteAsync(new ListKeysRequest(), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result.Slots, LifeboatJson.Default.IReadOnlyListKeySlotView);
                return 0;
            }

            call.Output.Table(
                [" ", "ID", "KIND", "CREATED", "HOST", "USER", "LABEL"],
                result.Slots.Select(s => new[] { s.Current ? "*" : "", s.Id.Length > 8 ? s.Id[..8] : s.Id, s.Kind, s.Created is { } created ? CliOutput.Time(created) : "", s.Host ?? "", s.User ?? "", s.Damage is { } damage ? "DAMAGED: " + damage : s.Label ?? "" }));
            return 0;
        }));

        var newPassphraseFile = new Option<string?>("--new-passphrase-file") { Description = "File holding the new passphrase", HelpName = "FILE" };
        var newKeyFile = new Option<string?>("--new-key-file") { Description = "Key file for the new slot (created when it does not exist)", HelpName = "FILE" };
        var label = new Option<string?>("--label") { Description = "A note about the new slot (who or what uses it)" };
        var add = new Command("add", "Add a passphrase or key file; data is not re-encrypted") { newPassphraseFile, newKeyFile, label };
        add.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<AddKey>().ExecuteAsync(new AddKeyRequest(parse.GetValue(newKeyFile), parse.GetValue(newPassphraseFile), parse.GetValue(label)), ct);
            call.Output.Line($"added key slot {result.Slot[..8]} ({result.Kind}) to {result.Repository}");
            return 0;
        }));

        var slotId = new Argument<string>("SLOT") { Description = "Key slot id (a unique prefix is enough)" };
        var remove = new Command("remove", "Remove a key slot (never the last one)") { slotId };
        remove.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<RemoveKey>().ExecuteAsync(new RemoveKeyRequest(parse.GetValue(slotId)!), ct);
            call.Output.Line($"removed key slot {result.Slot} from {result.Repository}");
            return 0;
        }, new Dictionary<string, string> { ["slot"] = "SLOT" }));

        key.Subcommands.Add(list);
        key.Subcommands.Add(add);
        key.Subcommands.Add(remove);
        return key;
    }

    private static Command Unlock(CliApp app)
    {
        var all = new Option<bool>("--all") { Description = "Remove every lock, not only stale ones (only when no Lifeboat process uses the repository)" };
        var command = new Command("unlock", "Remove stale locks left by processes that died") { all };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<UnlockRepository>().ExecuteAsync(new UnlockRepositoryRequest(parse.GetValue(all)), ct);
            var output = call.Output;
            foreach (var r in result.Removed)
            {
                output.Line($"removed {r.Lock}{(r.StaleReason is { } reason ? $" (stale: {reason})" : "")}");
            }

            output.Line(result.Removed.Count == 0 ? "no stale locks" : $"removed {result.Removed.Count} lock(s)");
            foreach (var held in result.StillHeld)
            {
                output.Line($"still held: {held}");
            }

            return 0;
        }));
        return command;
    }

    private static Command RebuildIndex(CliApp app)
    {
        var command = new Command("rebuild-index", "Rebuild the index from the pack headers (repairs a damaged or lost index)");
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            RebuildIndexReport report;
            using (call.ShowProgress("rebuild-index"))
            {
                report = await call.Get<Engine.UseCases.Repositories.RebuildIndex>().ExecuteAsync(new RebuildIndexRequest(), ct);
            }

            call.Output.Line($"indexed {report.Packs} pack(s); replaced {report.IndexObjectsReplaced} index object(s)");
            foreach (var damaged in report.DamagedPackNames)
            {
                call.Output.Warn($"pack not indexed, its header is damaged: {damaged}");
            }

            return report.DamagedPacks > 0 ? ErrorCode.Damage.ToExitCode() : 0;
        }));
        return command;
    }

    internal static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON document on stdout" };
}
