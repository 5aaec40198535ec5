using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Sources;
using Lifeboat.Repository.Format;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

/// <summary>A stack record as `stack list`, the API and stack backups and restores show it.</summary>
public record StackRecordView(string Id, string Stack, DateTimeOffset Started, DateTimeOffset Finished, bool Complete, IReadOnlyList<StackMemberView> Members, IReadOnlyList<StackPointView> Points)
{
    public static StackRecordView From(StackRecord record, IReadOnlyCollection<string> missing) => new(
        record.Id,
        record.Stack,
        record.Started,
        record.Finished,
        missing.Count == 0,
        record.Members.Select(m => new StackMemberView(m.Source, m.Kind, m.Backup, !missing.Contains(m.Backup))).ToList(),
        record.Points.Select(p => new StackPointView(p.Source, p.RestorePoint, p.Lsn, p.Timeline, p.Time)).ToList());
}

/// <param name="Present">The member backup is still in the repository.</param>
public sealed record StackMemberView(string Source, string Kind, string Backup, bool Present);

/// <summary>The named restore point a stack backup made in one of its clusters.</summary>
public sealed record StackPointView(string Source, string RestorePoint, string Lsn, uint Timeline, DateTimeOffset Time);

/// <summary>A member source of a stack, in backup order.</summary>
public sealed record StackMemberSource(string Name, string Kind);

/// <summary>Stacks (repository format, section 19): their members in backup order, and their records in the repository.</summary>
public static class StackRecords
{
    /// <summary>The restore point name of a stack backup in each of its clusters.</summary>
    public static string RestorePointName(string stackBackupId) => "lifeboat-stack-" + stackBackupId;

    /// <summary>The stack's sources in the order a stack backup takes them: by kind (databases, clusters, files, config), then as listed.</summary>
    public static List<(string Name, SourceOptions Source)> Ordered(Workspace workspace, SourceHandlers handlers, string stackName)
    {
        var stack = workspace.GetStack(stackName);
        return stack.Sources
            .Select((name, position) => (Name: name, Source: workspace.GetSource(name), Position: position))
            .OrderBy(m => handlers.For(m.Source).StackOrder)
            .ThenBy(m => m.Position)
            .Select(m => (m.Name, m.Source))
            .ToList();
    }

    /// <summary>The stack backups of a stack, oldest first, and which of their members are gone (expired or forgotten).</summary>
    public static async Task<List<(StackRecord Record, List<string> Missing)>> ListAsync(Repo repository, string? stackName, CancellationToken cancellationToken)
    {
        var (stacks, damaged) = await repository.LoadStacksAsync(cancellationToken);
        if (damaged.Count > 0)
        {
            throw new DamageException($"{damaged.Count} stack record(s) cannot be read: {string.Join(", ", damaged)}", damaged, []);
        }

        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        var ids = manifests.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        return stacks
            .Where(s => stackName is null || s.Stack == stackName)
            .Select(s => (s, s.Members.Where(m => !ids.Contains(m.Backup)).Select(m => m.Backup).ToList()))
            .ToList();
    }

    /// <summary>Deletes the stack records that name a deleted backup (a stack with a member gone cannot be restored).</summary>
    public static async Task<List<string>> ForgetBrokenAsync(Repo repository, IReadOnlyCollection<string> deletedBackups, CancellationToken cancellationToken)
    {
        var forgotten = new List<string>();
        if (deletedBackups.Count == 0)
        {
            return forgotten;
        }

        var (stacks, _) = await repository.LoadStacksAsync(cancellationToken);
        foreach (var stack in stacks.Where(s => s.Members.Any(m => deletedBackups.Contains(m.Backup))))
        {
            await repository.DeleteStackAsync(stack.Id, cancellationToken);
            forgotten.Add(stack.Id);
        }

        return forgotten;
    }

}
