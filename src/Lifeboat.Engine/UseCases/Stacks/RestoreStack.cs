using System.Text.Json.Serialization;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Sources;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Repository.Format;

namespace Lifeboat.Engine.UseCases.Stacks;

/// <param name="To">Every source is restored under DIR/&lt;source&gt;; DIR must be new or empty.</param>
/// <param name="Backup">A stack backup id; null for the latest (or the latest finished at or before «targetTime»).</param>
/// <param name="TargetTime">Recover the clusters to this time instead of the stack's point; files and config come from the stack backup before it.</param>
/// <param name="ArchiveMode">off (the default: the restored clusters are copies and do not archive into their sources' archives), or preserve.</param>
public sealed record RestoreStackRequest(string Stack, string To, string? Backup = null, string? TargetTime = null, string? ArchiveMode = null);

/// <summary>One member restored: where it went and, for a cluster, where its recovery stops.</summary>
public sealed record StackMemberRestored(string Source, string Kind, string Backup, string Directory, string? RecoveryTarget, [property: JsonIgnore] RestoreSourceResult Result);

/// <param name="StartOrder">What to start, in which order, once everything is on disk.</param>
public sealed record RestoreStackResult(
    [property: JsonIgnore] StackRecordView Record,
    [property: JsonPropertyOrder(1)] string Destination,
    [property: JsonPropertyOrder(1)] IReadOnlyList<StackMemberRestored> Restored,
    [property: JsonPropertyOrder(1)] IReadOnlyList<string> StartOrder) : StackRecordView(Record);

/// <summary>
/// `restore --stack`: restores every member of a complete stack backup into DIR/&lt;source&gt; — clusters to the stack's
/// restore point (or «targetTime») — and says what to start in which order. Every member is checked first.
/// </summary>
public sealed class RestoreStack : IUseCase<RestoreStackRequest, RestoreStackResult>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly RestoreSource _restore;
    private readonly SourceHandlers _handlers;
    private readonly CallContext _call;
    private readonly MaintenanceGate _maintenance;

    public RestoreStack(Workspace workspace, RepositoryOpener opener, RestoreSource restore, SourceHandlers handlers, CallContext call, MaintenanceGate maintenance)
    {
        _maintenance = maintenance;
        _workspace = workspace;
        _opener = opener;
        _restore = restore;
        _handlers = handlers;
        _call = call;
    }

    public async Task<RestoreStackResult> ExecuteAsync(RestoreStackRequest request, CancellationToken cancellationToken)
    {
        var destination = _workspace.ResolvePath(request.To);
        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{destination} is not empty", "restore a stack into a new or empty directory");
        }

        if (File.Exists(destination))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{destination} is a file", "restore a stack into a new or empty directory");
        }

        if (request.ArchiveMode is not (null or "preserve" or "off"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«archiveMode» '{request.ArchiveMode}' is not an archive mode", "use preserve or off");
        }

        var targetTime = request.TargetTime is null ? (DateTimeOffset?)null : TimeParsing.Parse(request.TargetTime, FieldText.Ref("targetTime"));
        var record = await FindAsync(request, targetTime, cancellationToken);

        // Check every member before writing anything: a missing source configuration would leave half a stack behind.
        var members = record.Members.Select(m => (Member: m, Source: _workspace.GetSource(m.Source))).ToList();
        foreach (var (member, _) in members)
        {
            await _maintenance.EnsureOpenAsync(member.Source, $"restore of stack '{record.Stack}'", cancellationToken);
        }

        Directory.CreateDirectory(destination);
        var restored = new List<StackMemberRestored>();
        foreach (var (member, source) in members.OrderBy(m => _handlers.For(m.Source).StackOrder))
        {
            var directory = Path.Combine(destination, member.Source);
            _call.Report(new ProgressUpdate("stack restore", $"restoring {member.Kind} source '{member.Source}' (backup {member.Backup}) to {directory}", Step: true));
            string? recovery = null;
            RestoreSourceRequest restore;
            if (source is ClusterSourceOptions)
            {
                var point = record.Points.FirstOrDefault(p => p.Source == member.Source)
                    ?? throw new DamageException($"stack record {ObjectNames.Stack(record.Id)} has no point for cluster '{member.Source}'", [ObjectNames.Stack(record.Id)], []);
                var target = targetTime is null ? new RecoveryTarget(RecoveryTargetKind.Name, point.RestorePoint) : new RecoveryTarget(RecoveryTargetKind.Time, request.TargetTime);
                recovery = target.ToString();
                restore = new RestoreSourceRequest
                {
                    Source = member.Source,
                    Backup = member.Backup,
                    To = directory,
                    TargetName = targetTime is null ? point.RestorePoint : null,
                    TargetTime = targetTime is null ? null : request.TargetTime,
                    TablespaceRoot = directory + ".tablespaces",
                    ArchiveMode = request.ArchiveMode,
                };
            }
            else
            {
                restore = new RestoreSourceRequest { Source = member.Source, Backup = member.Backup, To = directory };
            }

            var result = await _restore.ExecuteAsync(restore, cancellationToken);
            restored.Add(new StackMemberRestored(member.Source, member.Kind, member.Backup, directory, recovery, result));
        }

        return new RestoreStackResult(StackRecordView.From(record, []), destination, restored, StartOrder(restored));
    }

    private async Task<StackRecord> FindAsync(RestoreStackRequest request, DateTimeOffset? targetTime, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var all = await StackRecords.ListAsync(repository, request.Stack, cancellationToken);
        if (request.Backup is not null)
        {
            var found = all.FirstOrDefault(s => s.Record.Id == request.Backup);
            if (found.Record is null)
            {
                var other = (await repository.LoadStacksAsync(cancellationToken)).Stacks.FirstOrDefault(s => s.Id == request.Backup);
                throw new LifeboatException(other is null ? ErrorCode.NoSuchBackup : ErrorCode.InvalidInput, other is null ? $"there is no stack backup {request.Backup} in {repository.DisplayName}" : $"stack backup {request.Backup} belongs to stack '{other.Stack}', not '{request.Stack}'", "`lifeboat stack list --backups` shows the stack backups");
            }

            if (targetTime is { } t && found.Record.Finished > t)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"stack backup {found.Record.Id} finished at {found.Record.Finished:yyyy-MM-dd HH:mm:ss zzz}, after «targetTime» {t:yyyy-MM-dd HH:mm:ss zzz}", "choose an earlier stack backup, or leave «backup» out to use the latest before the target");
            }

            return Complete(found);
        }

        var candidates = all.Where(s => targetTime is null || s.Record.Finished <= targetTime).ToList();
        if (all.Count == 0 && !_workspace.OptionsOrEmpty.Stacks.ContainsKey(request.Stack))
        {
            // Neither configured nor in the repository: a wrong name (exit 2, naming the configured stacks), not a
            // missing backup. A stack the repository has records of restores even when this configuration lacks it.
            _workspace.GetStack(request.Stack);
        }

        if (candidates.Count == 0)
        {
            throw new LifeboatException(
                all.Count == 0 ? ErrorCode.NotFound : ErrorCode.InvalidInput,
                all.Count == 0 ? $"stack '{request.Stack}' has no stack backup in {repository.DisplayName}" : $"stack '{request.Stack}' has no stack backup finished at or before {targetTime:yyyy-MM-dd HH:mm:ss zzz} (the oldest finished {all[0].Record.Finished:yyyy-MM-dd HH:mm:ss zzz})",
                all.Count == 0 ? $"run `lifeboat backup --stack {request.Stack}` first" : "choose a later «targetTime»");
        }

        return Complete(candidates[^1]);
    }

    private static StackRecord Complete((StackRecord Record, List<string> Missing) stack)
        => stack.Missing.Count == 0
            ? stack.Record
            : throw new LifeboatException(ErrorCode.NotFound, $"stack backup {stack.Record.Id} cannot be restored: its member backup(s) {string.Join(", ", stack.Missing)} are gone (expired or forgotten)", "`lifeboat stack list --backups` shows the complete stack backups");

    /// <summary>What to start, in which order, once everything is on disk.</summary>
    private static List<string> StartOrder(List<StackMemberRestored> members)
    {
        var steps = new List<string>();
        foreach (var m in members.Where(m => m.Kind == SourceKinds.Cluster))
        {
            steps.Add($"start cluster '{m.Source}': pg_ctl -D {m.Directory} -o '-p PORT' start (it recovers to {m.RecoveryTarget} and is then promoted; pick a free PORT while the original runs)");
        }

        foreach (var m in members.Where(m => m.Kind == SourceKinds.Database))
        {
            steps.Add($"load database '{m.Source}': `lifeboat restore --source {m.Source} --backup {m.Backup} --into NEW_DB`, or pg_restore -d NEW_DB -j 2 {Path.Combine(m.Directory, "dump")} (roles: {Path.Combine(m.Directory, "globals.sql")})");
        }

        foreach (var m in members.Where(m => m.Kind == SourceKinds.Files))
        {
            steps.Add($"point the application's files '{m.Source}' at {m.Directory} (or move them to the original place)");
        }

        foreach (var m in members.Where(m => m.Kind == SourceKinds.Config))
        {
            steps.Add($"review config set '{m.Source}' in {m.Directory} (private; it holds secrets), then put the files back");
        }

        steps.Add("start the application");
        return steps;
    }
}
