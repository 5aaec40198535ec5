using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;
using Repo = Lifeboat.Repository.Repository;

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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var repoUrl = parse.GetValue(url)!;
            var existing = context.ConfigFile.Exists ? context.Options.Repository.Url : null;
            if (existing is not null && existing != repoUrl)
            {
                throw new LifeboatException(ErrorCode.Refused, $"{context.ConfigFile.Path} already names the repository {Redact.Url(existing)}", "use another configuration file (--config FILE) for a second repository");
            }

            KeyMaterial? key = null;
            string? keyFileRecorded = null, passphraseFileRecorded = null;
            var insecure = parse.GetValue(noEncryption);
            var keyFile = parse.GetValue(app.KeyFile);
            var passphraseFile = parse.GetValue(app.PassphraseFile);
            if (insecure && (keyFile is not null || passphraseFile is not null))
            {
                throw new LifeboatException(ErrorCode.Usage, "--insecure-no-encryption cannot be combined with --key-file or --passphrase-file", "choose one");
            }

            if (!insecure)
            {
                if (keyFile is not null)
                {
                    keyFileRecorded = context.ResolvePath(keyFile);
                    if (File.Exists(keyFileRecorded))
                    {
                        key = KeyMaterial.FromKeyFile(keyFileRecorded);
                    }
                    else
                    {
                        key = KeyMaterial.CreateKeyFile(keyFileRecorded);
                        output.Note($"created key file {keyFileRecorded}: keep a copy off this machine; without a key the backups cannot be read");
                    }
                }
                else if (passphraseFile is not null)
                {
                    passphraseFileRecorded = context.ResolvePath(passphraseFile);
                    key = KeyMaterial.FromPassphraseFile(passphraseFileRecorded);
                }
                else
                {
                    key = NewPassphrase(app, "LIFEBOAT_PASSPHRASE");
                }
            }

            var target = context.OpenTarget(repoUrl);
            await using var repository = await Repo.InitAsync(
                target,
                new Lifeboat.Repository.InitOptions
                {
                    Key = key,
                    InsecureNoEncryption = insecure,
                    CompressionLevel = parse.GetValue(level),
                    PackSize = ByteSize.Parse(parse.GetValue(packSize)!, "--pack-size"),
                },
                context.Time,
                null,
                ct);
            context.ConfigFile.Edit(root =>
            {
                var section = ConfigFile.Section(root, "Repository");
                section["Url"] = repoUrl;
                if (keyFileRecorded is not null)
                {
                    section["KeyFile"] = keyFileRecorded;
                    section.Remove("PassphraseFile");
                }

                if (passphraseFileRecorded is not null)
                {
                    section["PassphraseFile"] = passphraseFileRecorded;
                    section.Remove("KeyFile");
                }
            });
            output.Line($"created repository {repository.DisplayName}");
            output.Line($"  id          {repository.Config.Id}");
            output.Line($"  encryption  {repository.Config.Encryption}{(repository.OpenedSlotId is { } slot ? $" (key slot {slot[..8]}, {(key!.IsKeyFile ? "key file" : "passphrase")})" : "")}");
            output.Line($"  compression zstd level {repository.Config.Compression.Level}, packs of {ByteSize.Format(repository.Config.PackSize)}");
            output.Line($"configuration written to {context.ConfigFile.Path}");
            return 0;
        }));
        return command;
    }

    private static Command Key(CliApp app)
    {
        var key = new Command("key", "Manage the passphrases and key files that open the repository");

        var json = JsonOption();
        var list = new Command("list", "List key slots") { json };
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            var slots = await repository.ListKeysAsync(ct);
            if (output.Json)
            {
                output.WriteJson(new JsonArray(slots.Select(s => (JsonNode)new JsonObject
                {
                    ["id"] = s.Id,
                    ["kind"] = s.Kind,
                    ["created"] = s.Created,
                    ["host"] = s.Host,
                    ["user"] = s.User,
                    ["label"] = s.Label,
                    ["current"] = s.Id == repository.OpenedSlotId,
                }).ToArray()));
                return 0;
            }

            output.Table(
                [" ", "ID", "KIND", "CREATED", "HOST", "USER", "LABEL"],
                slots.Select(s => new[] { s.Id == repository.OpenedSlotId ? "*" : "", s.Id[..8], s.Kind, CliOutput.Time(s.Created), s.Host ?? "", s.User ?? "", s.Label ?? "" }));
            return 0;
        }));

        var newPassphraseFile = new Option<string?>("--new-passphrase-file") { Description = "File holding the new passphrase", HelpName = "FILE" };
        var newKeyFile = new Option<string?>("--new-key-file") { Description = "Key file for the new slot (created when it does not exist)", HelpName = "FILE" };
        var label = new Option<string?>("--label") { Description = "A note about the new slot (who or what uses it)" };
        var add = new Command("add", "Add a passphrase or key file; data is not re-encrypted") { newPassphraseFile, newKeyFile, label };
        add.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            KeyMaterial material;
            if (parse.GetValue(newKeyFile) is { } kf)
            {
                var path = context.ResolvePath(kf);
                material = File.Exists(path) ? KeyMaterial.FromKeyFile(path) : KeyMaterial.CreateKeyFile(path);
            }
            else if (parse.GetValue(newPassphraseFile) is { } pf)
            {
                material = KeyMaterial.FromPassphraseFile(context.ResolvePath(pf));
            }
            else
            {
                material = NewPassphrase(app, "LIFEBOAT_NEW_PASSPHRASE");
            }

            var slot = await repository.AddKeyAsync(material, parse.GetValue(label), ct);
            output.Line($"added key slot {slot.Id[..8]} ({slot.Kind}) to {repository.DisplayName}");
            return 0;
        }));

        var slotId = new Argument<string>("SLOT") { Description = "Key slot id (a unique prefix is enough)" };
        var remove = new Command("remove", "Remove a key slot (never the last one)") { slotId };
        remove.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            await repository.RemoveKeyAsync(parse.GetValue(slotId)!, ct);
            output.Line($"removed key slot {parse.GetValue(slotId)} from {repository.DisplayName}");
            return 0;
        }));

        key.Subcommands.Add(list);
        key.Subcommands.Add(add);
        key.Subcommands.Add(remove);
        return key;
    }

    private static Command Unlock(CliApp app)
    {
        var all = new Option<bool>("--all") { Description = "Remove every lock, not only stale ones (only when no Lifeboat process uses the repository)" };
        var command = new Command("unlock", "Remove stale locks left by processes that died") { all };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            var removed = await RepositoryLock.UnlockAsync(repository, parse.GetValue(all), ct);
            foreach (var r in removed)
            {
                output.Line($"removed {r.Lock.Describe()}{(r.IsStale ? $" (stale: {r.StaleReason})" : "")}");
            }

            var left = await RepositoryLock.ListAsync(repository, ct);
            output.Line(removed.Count == 0 ? "no stale locks" : $"removed {removed.Count} lock(s)");
            foreach (var l in left)
            {
                output.Line($"still held: {l.Lock.Describe()}");
            }

            return 0;
        }));
        return command;
    }

    private static Command RebuildIndex(CliApp app)
    {
        var command = new Command("rebuild-index", "Rebuild the index from the pack headers (repairs a damaged or lost index)");
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, "rebuild-index", ct);
            using var progress = output.Progress("rebuild-index");
            var report = await new IndexRebuilder(repository).RebuildAsync(new Progress<string>(s => progress.Update(0, s)), ct);
            progress.Dispose();
            output.Line($"indexed {report.Packs} pack(s); replaced {report.IndexObjectsReplaced} index object(s)");
            foreach (var damaged in report.DamagedPackNames)
            {
                output.Warn($"pack not indexed, its header is damaged: {damaged}");
            }

            return report.DamagedPacks > 0 ? ErrorCode.Damage.ToExitCode() : 0;
        }));
        return command;
    }

    internal static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON document on stdout" };

    /// <summary>A new passphrase from an environment variable or typed twice.</summary>
    private static KeyMaterial NewPassphrase(CliApp app, string variable)
    {
        if (app.Environment.Variables.TryGetValue(variable, out var fromEnv) && !string.IsNullOrEmpty(fromEnv))
        {
            return KeyMaterial.FromPassphrase(new Secret(fromEnv), "$" + variable);
        }

        var prompt = app.Environment.Prompt
            ?? throw new LifeboatException(ErrorCode.Usage, "no passphrase or key file was given for the new key", $"pass --passphrase-file F or --key-file F (created if missing), or set {variable}");
        var first = prompt("New passphrase: ");
        var second = prompt("Repeat the passphrase: ");
        if (first is null || second is null || first.Reveal() != second.Reveal())
        {
            throw new LifeboatException(ErrorCode.InvalidInput, "the passphrases differ or are empty", "run the command again");
        }

        return KeyMaterial.FromPassphrase(first, "the passphrase typed");
    }
}
