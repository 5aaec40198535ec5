using System.Globalization;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Runbooks;

/// <summary>
/// The eight scenarios of a runbook, written for the sources of <see cref="Runbook.Sources"/> with this installation's
/// names, paths and targets. Every <c>lifeboat</c> command printed is a valid command line of this version (the tests
/// parse each one); values only the operator knows are upper-case words (TABLE, TIME, GLOB, SLOT, ID, NEWTARGET, URL).
/// </summary>
internal sealed class RunbookScenarios(Runbook facts)
{
    private string Lb => facts.Command;

    private IEnumerable<RunbookSource> Of(string kind) => facts.Sources.Where(s => s.Kind == kind);

    public IReadOnlyList<RunbookScenario> All() =>
    [
        HostLost(), DatabaseCorrupted(), RowsLost(), FilesLost(), ConfigLost(), PrimaryTargetLost(), Compromised(), FailedUpgrade(),
    ];

    private RunbookScenario HostLost()
    {
        var steps = new List<RunbookStep>
        {
            RunbookStep.Say($"On a new host: install PostgreSQL {Versions()} and Lifeboat (README, Install), then put back Lifeboat's configuration as {facts.ConfigPath} and the key ({facts.Keys.Configured}) from their copies kept off {facts.Host}. Check that the repository opens and shows the backups:"),
            new("", [$"{Lb} repo key list", $"{Lb} list"]),
        };
        if (facts.Stack is { } stack)
        {
            steps.Add(new($"Restore the whole stack '{stack}' into one directory, then start its members in the order printed:", [$"{Lb} restore --stack {stack} --to /srv/{stack}-restored"]));
        }

        foreach (var s in Of(SourceKinds.Cluster))
        {
            steps.Add(new(
                $"Cluster '{s.Name}': restore into its own data directory {s.Where} (the source's PGDATA keeps archiving: its new timeline continues the same archive), then start PostgreSQL as its OS user:",
                [$"{Lb} restore --source {s.Name} --to {Shell.Quote(s.Where)} --force", $"pg_ctl -D {Shell.Quote(s.Where)} start"]));
        }

        foreach (var s in Of(SourceKinds.Database))
        {
            steps.Add(new($"Database '{s.Name}': create the database from its newest dump on the new server:", [$"{Lb} restore --source {s.Name} --database {s.Database} --into {s.Database}"]));
        }

        foreach (var s in Of(SourceKinds.Files).Concat(Of(SourceKinds.Config)))
        {
            steps.Add(new($"{Kind(s)} '{s.Name}': put it back in its original place ({s.Where}):", [$"{Lb} restore --source {s.Name} --overwrite"]));
        }

        return new("host-lost", "The host is lost", $"{facts.Host} is gone (hardware, disk, data centre) and a new host takes its place.", steps, Checks(true));
    }

    private RunbookScenario DatabaseCorrupted()
    {
        var steps = new List<RunbookStep>();
        foreach (var s in Of(SourceKinds.Cluster))
        {
            steps.Add(new(
                $"Cluster '{s.Name}': first restore a copy beside it and check it (a copy does not archive into the source's archive); recoverable now: {Window(s)}.",
                [$"{Lb} restore --source {s.Name} --to {Shell.Quote(s.Where + ".restored")}", $"pg_ctl -D {Shell.Quote(s.Where + ".restored")} -o \"-p 5433\" start", "pg_amcheck -p 5433 --all"]));
            steps.Add(new(
                $"If the copy is good, stop the damaged cluster and rewrite its data directory in place (only the blocks that differ are written); to stop just before the corruption add --target-time with a time inside the window:",
                [$"pg_ctl -D {Shell.Quote(s.Where + ".restored")} stop", $"pg_ctl -D {Shell.Quote(s.Where)} stop", $"{Lb} restore --source {s.Name} --to {Shell.Quote(s.Where)} --delta", $"pg_ctl -D {Shell.Quote(s.Where)} start"]));
        }

        foreach (var s in Of(SourceKinds.Database))
        {
            steps.Add(new($"Database '{s.Name}': restore the newest dump into a new database, check it, then switch the application to it (or rename the databases):", [$"{Lb} restore --source {s.Name} --database {s.Database} --into {s.Database}_restored"]));
        }

        if (steps.Count == 0)
        {
            steps.Add(RunbookStep.Say("No PostgreSQL cluster or database source is covered by this runbook."));
        }

        return new("database-corrupted", "The database is corrupted", "PostgreSQL reports corrupted pages or crashes on reading, or pg_amcheck finds damage.", steps, Checks(false));
    }

    private RunbookScenario RowsLost()
    {
        var steps = new List<RunbookStep>();
        foreach (var s in Of(SourceKinds.Cluster))
        {
            steps.Add(new(
                $"Cluster '{s.Name}': bring the table back as it was just before the accident into a new database of the live server (through a private scratch copy; the live cluster keeps running). Choose the moment just before the accident (the server log has the statement's time) inside what is recoverable now: {Window(s)}. Replace TABLE and TIME:",
                [$"{Lb} list --source {s.Name}", $"{Lb} restore --source {s.Name} --database {s.Database ?? "postgres"} --into {s.Database ?? "postgres"}_restored --table TABLE --target-time {Shell.Quote(TimePlaceholder)}"]));
            steps.Add(RunbookStep.Say($"Compare, then copy the rows back (for example `pg_dump -d {s.Database ?? "postgres"}_restored -t TABLE --data-only | psql -d {s.Database ?? "postgres"}`), and drop the restored database."));
        }

        foreach (var s in Of(SourceKinds.Database))
        {
            steps.Add(new($"Database '{s.Name}': restore the table (with what it depends on) from the newest dump into a new database; replace TABLE:", [$"{Lb} restore --source {s.Name} --database {s.Database} --into {s.Database}_restored --table TABLE"]));
        }

        if (steps.Count == 0)
        {
            steps.Add(RunbookStep.Say("No PostgreSQL cluster or database source is covered by this runbook."));
        }

        return new("rows-lost", "A table was dropped or rows were deleted", "A mistake (a DROP, a DELETE without WHERE, a bad migration) removed data at a known time; the rest of the database is fine.", steps,
            ["the restored table has the rows expected (count them in both databases)", "the application works with the rows copied back", "drop the restored database once done"]);
    }

    private RunbookScenario FilesLost()
    {
        var steps = new List<RunbookStep>();
        foreach (var s in Of(SourceKinds.Files))
        {
            steps.Add(new($"File tree '{s.Name}' ({s.Where}): restore into a review directory first, or put back only what is missing (a glob) in the original place:",
                [$"{Lb} restore --source {s.Name} --to /srv/{s.Name}-restored", $"{Lb} restore --source {s.Name} --path 'GLOB' --overwrite"]));
        }

        if (steps.Count == 0)
        {
            steps.Add(RunbookStep.Say("No file-tree source is covered by this runbook: uploaded files are not protected by it (`lifeboat source add-files NAME --path DIR`)."));
        }

        return new("files-lost", "Uploaded files are lost", "The application's uploads (or another file tree) were deleted or overwritten.", steps,
            ["the files are back with their owners and modes (`ls -l`)", "the application serves them", $"newest backup: {string.Join("; ", Of(SourceKinds.Files).Select(s => $"'{s.Name}' {Time(s.LatestBackupAt)}"))}"]);
    }

    private RunbookScenario ConfigLost()
    {
        var steps = new List<RunbookStep>();
        foreach (var s in Of(SourceKinds.Config))
        {
            steps.Add(new($"Config set '{s.Name}' ({s.Where}): restore into a private review directory, compare, then put the files back in place:",
                [$"{Lb} restore --source {s.Name} --to /root/{s.Name}-review", $"{Lb} restore --source {s.Name} --overwrite"]));
        }

        steps.Add(RunbookStep.Say($"Lifeboat's own configuration is {facts.ConfigPath}; the repository opens with {facts.Keys.Configured}. Neither is in the repository: restore them from the copies kept off this host. Without a key nothing can be restored."));
        return new("config-lost", "Configuration or secrets are lost", "The application's .env, settings or secrets, or Lifeboat's own configuration or key, are gone or wrong.", steps,
            ["the application starts with the restored settings", $"`{Lb} check` passes", "the key opens the repository (`lifeboat repo key list`)"]);
    }

    private RunbookScenario PrimaryTargetLost()
    {
        var secondaries = facts.Targets.Where(t => t.Name != TargetOptions.PrimaryName).ToList();
        var steps = new List<RunbookStep>();
        if (secondaries.Count == 0)
        {
            steps.Add(RunbookStep.Say($"There is no second target: if the primary ({facts.Targets[0].Url}) is lost, so is every backup. Add one now: `lifeboat repo target add offsite URL`."));
        }
        else
        {
            var first = secondaries[0];
            steps.Add(new($"Check the secondaries; restores and wal-fetch already fall back to them when the primary cannot be read, and --from reads one on purpose:",
                [.. secondaries.Select(t => $"{Lb} target verify {t.Name}"), .. Of(SourceKinds.Cluster).Take(1).Select(s => $"{Lb} restore --source {s.Name} --to {Shell.Quote(s.Where + ".restored")} --from {first.Name}")]));
            steps.Add(RunbookStep.Say($"Make '{first.Name}' the primary: in {facts.ConfigPath} set Repository:Url to its URL ({first.Url}) and remove Targets:{first.Name}; then add a new second target and copy everything there:"));
            steps.Add(new("", [$"{Lb} repo target add NEWTARGET URL", $"{Lb} replicate --to NEWTARGET"]));
        }

        return new("primary-target-lost", "The primary target is lost", $"The repository's primary target ({facts.Targets[0].Url}) is destroyed or unreachable for good.", steps,
            [$"`{Lb} list` shows the backups from the new primary", $"`{Lb} verify` passes", "WAL archiving works again (`lifeboat check`)"]);
    }

    private RunbookScenario Compromised()
    {
        var steps = new List<RunbookStep>
        {
            RunbookStep.Say($"Isolate {facts.Host}; do not restore onto it. Assume every secret on it is known: database passwords, Lifeboat's key ({facts.Keys.Configured}), API tokens, target credentials."),
            RunbookStep.Say("On a clean host with a copy of the configuration and a key from off the compromised host: check that every backup is intact, and find the newest point before the compromise:"),
            new("", [$"{Lb} verify --read-data", $"{Lb} list"]),
        };
        foreach (var s in Of(SourceKinds.Cluster))
        {
            steps.Add(new($"Cluster '{s.Name}': restore to a time before the compromise (recoverable: {Window(s)}); replace TIME:", [$"{Lb} restore --source {s.Name} --to {Shell.Quote(s.Where)} --force --target-time {Shell.Quote(TimePlaceholder)}"]));
        }

        steps.Add(new("Then rotate: a new key slot, the old ones removed (SLOT from `repo key list`), every API token revoked, target credentials changed:",
            [$"{Lb} repo key add --new-key-file /root/lifeboat-new.key --label after-incident", $"{Lb} repo key remove SLOT", $"{Lb} token list", $"{Lb} token revoke ID"]));
        if (facts.Targets.All(t => t.OnThisHost))
        {
            steps.Add(RunbookStep.Say("Warning: every copy of the repository is on this host; an attacker with root there could have deleted or encrypted it. Keep a target the host cannot delete from (object lock, an off-site account)."));
        }

        return new("compromised", "The host is compromised (ransomware)", "Files are encrypted or deleted by an attacker, or someone had root on the host.", steps,
            ["`lifeboat verify --read-data` passes on the clean host", "the restored data predates the compromise", "no old secret works any more", $"`{Lb} audit list` shows who did what before"]);
    }

    private RunbookScenario FailedUpgrade()
    {
        var steps = new List<RunbookStep>();
        foreach (var s in Of(SourceKinds.Cluster))
        {
            var bin = s.ServerVersion is { } v ? $"/usr/lib/postgresql/{v.Split('.')[0]}/bin" : "/usr/lib/postgresql/OLD/bin";
            steps.Add(new(
                $"Cluster '{s.Name}' (PostgreSQL {s.ServerVersion ?? "?"} in its newest backup {s.LatestBackup ?? "(none)"}): put the old version's data directory back and start it with the old version's programs. The restore takes the backups of the cluster before the upgrade (the system identifier the source names; pg_upgrade makes a new one) and replays its WAL up to the last file archived before the upgrade:",
                [$"{Lb} list --source {s.Name}", $"{Lb} restore --source {s.Name} --to {Shell.Quote(s.Where)} --force", $"{bin}/pg_ctl -D {Shell.Quote(s.Where)} start"]));
        }

        if (steps.Count == 0)
        {
            steps.Add(RunbookStep.Say("No PostgreSQL cluster source is covered by this runbook."));
        }
        else
        {
            steps.Insert(0, RunbookStep.Say("Before the next upgrade: take a full backup and drill it (`lifeboat backup --type full`, `lifeboat drill`); a restore goes only into the major version that wrote the backup."));
        }

        return new("failed-upgrade", "A PostgreSQL upgrade failed", "pg_upgrade or the new major version failed and the old one must come back.", steps, Checks(false));
    }

    private List<string> Checks(bool everything)
    {
        var checks = new List<string> { $"`{Lb} check` passes (archiving, permissions, connection)" };
        checks.AddRange(facts.Sources.Where(s => s.Kind == SourceKinds.Cluster).Select(s => $"'{s.Name}': pg_amcheck --all finds nothing; a new full backup (`{Lb} backup --source {s.Name} --type full`) and a drill (`{Lb} drill --source {s.Name}`) pass"));
        if (everything)
        {
            checks.Add($"`{Lb} status` is healthy for every source");
        }

        checks.Add("the application works end to end");
        return checks;
    }

    private string Versions()
    {
        var versions = facts.Sources.Select(s => s.ServerVersion).OfType<string>().Distinct().ToList();
        return versions.Count == 0 ? "(the version of the backups)" : string.Join(", ", versions);
    }

    private static string Kind(RunbookSource s) => s.Kind == SourceKinds.Config ? "Config set" : "File tree";

    /// <summary>What the operator replaces with the moment to recover to (PostgreSQL's form, as `list` prints it).</summary>
    internal const string TimePlaceholder = "TIME YYYY-MM-DD HH:MM:SS+00";

    internal static string Window(RunbookSource s)
        => s.Window.Count == 0 ? "nothing (no backup with its WAL)" : string.Join("; ", s.Window.Select(w => $"timeline {w.Timeline.ToString(CultureInfo.InvariantCulture)} from {Time(w.Earliest)} to {(w.Latest is { } l ? Time(l) : "incomplete (WAL missing)")}"));

    internal static string Time(DateTimeOffset? t) => t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "never";
}
