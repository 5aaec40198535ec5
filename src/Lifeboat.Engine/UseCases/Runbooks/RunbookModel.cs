using Lifeboat.Engine.UseCases.Restores;

namespace Lifeboat.Engine.UseCases.Runbooks;

/// <param name="Source">Only the scenarios of this source.</param>
/// <param name="Stack">Only the scenarios of this stack's sources, plus the stack's own restore.</param>
/// <param name="Format">md (Markdown) or html: the form of <see cref="Runbook.Content"/>.</param>
public sealed record GetRunbookRequest(string? Source = null, string? Stack = null, string Format = "md");

/// <summary>
/// The recovery runbook of this installation as it is now: the facts it was written from, the scenarios with their
/// exact commands, and the whole document in the format asked for (<see cref="Content"/>).
/// </summary>
/// <param name="Command">How every command below starts: <c>lifeboat --config FILE</c>.</param>
/// <param name="Warnings">What makes a recovery fail today (the only key on the protected host, no second target, never drilled, …).</param>
public sealed record Runbook(
    string Format,
    DateTimeOffset Generated,
    string Host,
    string ConfigPath,
    string Command,
    string Repository,
    IReadOnlyList<RunbookTarget> Targets,
    RunbookKeys Keys,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<RunbookSource> Sources,
    string? Stack,
    IReadOnlyList<RunbookScenario> Scenarios,
    string Content);

/// <summary>A place holding the repository (<c>primary</c> or a secondary), its URL without secrets.</summary>
/// <param name="OnThisHost">A directory on the protected host itself: lost with it.</param>
public sealed record RunbookTarget(string Name, string Url, bool OnThisHost);

/// <summary>Where the key this installation opens the repository with is, and the repository's key slots.</summary>
/// <param name="Configured">How this installation opens the repository: a key file, a passphrase file (paths on this host) or $LIFEBOAT_PASSPHRASE.</param>
/// <param name="Slots">The key slots (null when the repository could not be opened).</param>
public sealed record RunbookKeys(string Configured, IReadOnlyList<RunbookKeySlot>? Slots);

/// <summary>A key slot: any one of them opens the repository.</summary>
public sealed record RunbookKeySlot(string Id, string Kind, DateTimeOffset? Created, string? Host, string? Label, bool UsedHere);

/// <summary>What is known about a source now: where it is, its newest backup, its recoverable window, what drills proved.</summary>
/// <param name="Where">Its data directory, database, tree or files.</param>
/// <param name="Window">A cluster's recoverable window per timeline.</param>
/// <param name="ServerVersion">A cluster's PostgreSQL version in its newest backup.</param>
/// <param name="Database">The database a cluster's connection names (or the source's database).</param>
public sealed record RunbookSource(
    string Name,
    string Kind,
    string Where,
    string? Database,
    string? LatestBackup,
    DateTimeOffset? LatestBackupAt,
    string? ServerVersion,
    IReadOnlyList<TimelineWindowView> Window,
    string? LastProvenDrill,
    DateTimeOffset? LastProvenPoint,
    DateTimeOffset? LastProvenAt,
    double? MeasuredRtoSeconds,
    double? RtoObjectiveSeconds);

/// <summary>One disaster: when it applies, what to do (each step with its commands), what to check afterwards.</summary>
public sealed record RunbookScenario(string Id, string Title, string When, IReadOnlyList<RunbookStep> Steps, IReadOnlyList<string> Checks);

/// <summary>A step: what to do, and the exact commands (shell; <c>lifeboat</c> ones start with <see cref="Runbook.Command"/>).</summary>
public sealed record RunbookStep(string Text, IReadOnlyList<string> Commands)
{
    public static RunbookStep Say(string text) => new(text, []);
}
