// Over 400 lines: replication is one protocol per target (find what the replica lacks, copy packs, index, WAL and
// manifests in the order that keeps the replica consistent at every step, then apply its retention).
using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Core.Retention;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Postgres;
using Lifeboat.Repository;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;
using Lifeboat.Targets;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Replication;

/// <summary>What replication did on one secondary target; <see cref="Error"/> when it failed there.</summary>
/// <remarks>JSON: <c>target</c> and <c>ok</c> first, then the counts (what <c>replicate --json</c> printed before).</remarks>
public sealed record ReplicaReport([property: System.Text.Json.Serialization.JsonPropertyOrder(-2)] string Target, [property: System.Text.Json.Serialization.JsonIgnore] string Display)
{
    /// <summary>The target was empty and became a replica (key slots and config written).</summary>
    public bool Started { get; init; }

    public int Backups { get; init; }

    public int Packs { get; init; }

    public int IndexObjects { get; init; }

    public int WalFiles { get; init; }

    public int Pins { get; init; }

    /// <summary>Stack records copied (repository format, section 19).</summary>
    public int Stacks { get; init; }

    /// <summary>Backups of the primary that the target's own retention does not keep, so not copied.</summary>
    public int SkippedByRetention { get; init; }

    /// <summary>Bytes copied (and read back when Targets:NAME:ReadBack).</summary>
    public long Bytes { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public int Objects => Backups + Packs + IndexObjects + WalFiles + Pins + Stacks;

    /// <summary>Why replication to this target failed, or null.</summary>
    public string? Error => Failure?.Message;

    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public bool Ok => Failure is null;

    /// <summary>
    /// Internal, so that the JSON source generator does not describe the exception (Exception.TargetSite is not
    /// trim-safe: it broke the Native AOT publish); adapters read it with <see cref="FailureDetails"/>.
    /// </summary>
    internal LifeboatException? Failure { get; init; }

    /// <summary>Why replication to this target failed (code, message, hint), or null.</summary>
    public LifeboatException? FailureDetails() => Failure;
}

/// <summary>What <c>lifeboat replicate</c> (or the replication after a backup) did on every secondary target.</summary>
public sealed record ReplicateReport(IReadOnlyList<ReplicaReport> Targets)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<ReplicaReport> Failures => Targets.Where(t => t.Failure is not null).ToList();

    public bool Ok => Targets.All(t => t.Ok);
}

/// <summary>
/// Copies what secondary targets are missing from the primary (repository format, section 20): the packs that the
/// backups to copy need and the target does not already hold (in any pack), a new index object listing them, then the
/// manifests, the archived WAL, the stack records and the pins. Every copied object is read back and its SHA-256 compared (packs and index
/// objects against their names). Objects already on the target are never copied again, and nothing is ever overwritten,
/// so a second run copies nothing. A target with its own retention (Targets:NAME:Retention) receives only the backups
/// and WAL that retention keeps. A target that fails is reported; the others are still replicated.
/// </summary>
public sealed class Replicator
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly Runs _runs;
    private readonly TimeProvider _time;
    private readonly CallContext _call;

    public Replicator(Workspace workspace, RepositoryOpener opener, Runs runs, TimeProvider time, CallContext call)
    {
        _workspace = workspace;
        _opener = opener;
        _runs = runs;
        _time = time;
        _call = call;
    }

    /// <param name="to">Only this secondary; null: every secondary.</param>
    /// <param name="afterBackup">Run after a backup: only targets with ReplicateAfterBackup, and never throws for a target.</param>
    public async Task<ReplicateReport> RunAsync(string? to, bool afterBackup, CancellationToken cancellationToken)
    {
        var targets = to is null ? _workspace.Secondaries() : [_workspace.Target(to)];
        if (targets.Any(t => t.IsPrimary))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, "replicate copies from the primary target to the secondaries; 'primary' is not a destination", "name a secondary target with «to», or leave «to» out to replicate to all");
        }

        if (afterBackup)
        {
            targets = targets.Where(t => t.Options!.ReplicateAfterBackup).ToList();
        }

        if (targets.Count == 0)
        {
            return new ReplicateReport([]);
        }

        await using var primary = await _opener.OpenAsync(cancellationToken);
        await using var primaryLock = await RepositoryLock.AcquireAsync(primary, exclusive: false, "replicate", cancellationToken);
        var source = await PrimaryState.LoadAsync(primary, cancellationToken);
        var reports = new List<ReplicaReport>();
        foreach (var target in targets)
        {
            _call.Report(new ProgressUpdate("replicate", $"replicating to {target.Name}"));
            ReplicaReport report;
            try
            {
                report = await _runs.RecordAsync(
                    new RunInfo(RunOperations.Replicate, Catalog.JobKinds.Replicate, null, target.Name),
                    () => ReplicateToAsync(primary, source, target, cancellationToken),
                    r => new RunFigures(r.Bytes, r.Bytes, null, $"{{\"objects\":{r.Objects}}}"),
                    cancellationToken);
            }
            catch (LifeboatException ex)
            {
                report = new ReplicaReport(target.Name, target.Display) { Failure = ex };
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                report = new ReplicaReport(target.Name, target.Display) { Failure = new LifeboatException(ErrorCode.TargetFailed, ex.Message, null, ex) };
            }

            reports.Add(report);
        }

        return new ReplicateReport(reports);
    }

    /// <summary>Replication after a backup: never throws for a target; null report when there is nothing to replicate to.</summary>
    public async Task<(ReplicateReport? Report, string? Error)> AfterBackupAsync(CancellationToken cancellationToken)
    {
        if (!_workspace.Options.Targets.Values.Any(t => t.ReplicateAfterBackup))
        {
            return (null, null);
        }

        try
        {
            return (await RunAsync(null, afterBackup: true, cancellationToken), null);
        }
        catch (LifeboatException ex)
        {
            return (null, ex.Message);
        }
    }

    private sealed record PrimaryState(List<Manifest> Manifests, ChunkIndex Index, Dictionary<ChunkId, PackDescription> Packs, HashSet<string> Pins, List<ObjectInfo> Wal, List<StackRecord> Stacks)
    {
        public static async Task<PrimaryState> LoadAsync(Repo primary, CancellationToken cancellationToken)
        {
            var (manifests, damaged) = await primary.LoadAllManifestsAsync(cancellationToken);
            if (damaged.Count > 0)
            {
                throw new DamageException(
                    $"replicate refuses to copy from {primary.DisplayName}: {damaged.Count} manifest(s) are damaged ({string.Join(", ", damaged.Select(d => d.Id))})",
                    damaged.Select(d => ObjectNames.Backup(d.Id)).ToList(),
                    damaged.Select(d => d.Id).ToList(),
                    "`lifeboat verify` shows the damage; a secondary may hold intact copies (`lifeboat restore --from TARGET`)");
            }

            var snapshot = await primary.LoadIndexObjectsAsync(cancellationToken);
            var index = new ChunkIndex();
            var packs = new Dictionary<ChunkId, PackDescription>();
            foreach (var pack in snapshot.Objects.SelectMany(o => o.Packs))
            {
                index.AddPack(pack);
                packs.TryAdd(pack.PackId, pack);
            }

            var (stacks, _) = await primary.LoadStacksAsync(cancellationToken);
            return new PrimaryState(manifests, index, packs, await primary.PinnedAsync(cancellationToken), await primary.Target.ListAllAsync(ObjectNames.WalPrefix, cancellationToken), stacks);
        }
    }

    private async Task<ReplicaReport> ReplicateToAsync(Repo primary, PrimaryState state, ConfiguredTarget target, CancellationToken cancellationToken)
    {
        // Fail fast while finding out whether the target is there at all; once it answers, the usual retry budget applies.
        FailFastTarget? gate = null;
        var raw = _opener.OpenTarget(target.Url, null, t => gate = new FailFastTarget(t));
        var started = false;
        try
        {
            var identity = await ReplicaIdentity.CheckAsync(primary, raw, cancellationToken);
            gate!.Enabled = false;
            if (identity == ReplicaState.Empty)
            {
                await ReplicaIdentity.StartAsync(primary, raw, cancellationToken);
                started = true;
            }
            else
            {
                await ReplicaIdentity.SyncKeysAsync(primary, raw, cancellationToken);
            }
        }
        catch
        {
            await raw.DisposeAsync();
            throw;
        }

        await using var replica = primary.OnTarget(raw);
        await using var replicaLock = await RepositoryLock.AcquireAsync(replica, exclusive: false, "replicate", cancellationToken);
        var copier = new ObjectCopier(primary.Target, replica.Target, target.Options!.ReadBack);

        // What the replica holds.
        var (theirManifests, _) = await replica.LoadAllManifestsAsync(cancellationToken);
        var theirIds = (await replica.ListBackupIdsAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        var theirPins = await replica.PinnedAsync(cancellationToken);
        var plan = Plan(target, state, theirManifests, theirPins);
        var toCopy = plan.Backups.Where(m => !theirIds.Contains(m.Id)).ToList();

        // 1. Packs: the chunks the backups to copy need that the replica's index does not have.
        _call.Report(new ProgressUpdate("replicate", $"{target.Name}: finding the chunks to copy"));
        var theirIndex = await replica.LoadIndexAsync(cancellationToken);
        var needed = await ReferenceCollector.CollectAsync(primary, state.Index, toCopy, cancellationToken);
        var packIds = needed.Where(id => !theirIndex.Contains(id)).Select(id => state.Index.PackOf(id)?.PackId
            ?? throw new LifeboatException(ErrorCode.Damage, $"chunk {id} that a backup needs is not in the index of {primary.DisplayName}", "run `lifeboat verify` on the primary")).ToHashSet();
        var theirData = (await replica.Target.ListAllAsync(ObjectNames.DataPrefix, cancellationToken)).ToDictionary(o => o.Name, o => o.Size, StringComparer.Ordinal);
        var packs = packIds.Select(id => state.Packs[id]).ToList();
        var packsCopied = 0;
        long bytes = 0;
        _call.Report(new ProgressUpdate("replicate", $"{target.Name}: copying {packs.Count(p => !theirData.ContainsKey(ObjectNames.Pack(p.PackId)))} pack(s)"));
        await Parallel.ForEachAsync(packs, Parallelism(primary.Target, replica.Target, cancellationToken), async (pack, ct) =>
        {
            var name = ObjectNames.Pack(pack.PackId);
            if (theirData.TryGetValue(name, out var size) && size == pack.Size)
            {
                return; // copied by an earlier run that stopped before its index object
            }

            Interlocked.Add(ref bytes, await copier.CopyAsync(name, pack.PackId.ToString(), ct));
            Interlocked.Increment(ref packsCopied);
        });

        // 2. One index object listing them: the primary's own index objects list packs the replica may never receive.
        var indexObjects = 0;
        if (packs.Count > 0)
        {
            var (indexId, indexSize) = await replica.SaveIndexAsync([], packs, cancellationToken);
            await copier.CheckHashAsync(ObjectNames.Index(indexId), indexId.ToString(), cancellationToken);
            bytes += indexSize;
            indexObjects = 1;
        }

        // 3. Manifests (after the data they need), 4. WAL, 5. pins.
        foreach (var manifest in toCopy)
        {
            bytes += await copier.CopyAsync(ObjectNames.Backup(manifest.Id), null, cancellationToken);
        }

        var theirWal = (await replica.Target.ListAllAsync(ObjectNames.WalPrefix, cancellationToken)).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var wal = state.Wal.Where(w => !theirWal.Contains(w.Name) && !w.Name.Contains(".tmp-", StringComparison.Ordinal) && plan.KeepsWal(w.Name)).ToList();
        _call.Report(new ProgressUpdate("replicate", $"{target.Name}: copying {wal.Count} WAL file(s)"));
        var walCopied = 0;
        await Parallel.ForEachAsync(wal, Parallelism(primary.Target, replica.Target, cancellationToken), async (w, ct) =>
        {
            Interlocked.Add(ref bytes, await copier.CopyAsync(w.Name, null, ct));
            Interlocked.Increment(ref walCopied);
        });

        // Stack records last, and only where every member backup is on the replica (a target's retention may have dropped some).
        var stacks = 0;
        var present = new HashSet<string>(theirIds, StringComparer.Ordinal);
        present.UnionWith(toCopy.Select(m => m.Id));
        var theirStacks = (await replica.Target.ListAllAsync(ObjectNames.StacksPrefix, cancellationToken)).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var record in state.Stacks.Where(r => !theirStacks.Contains(ObjectNames.Stack(r.Id)) && r.Members.All(m => present.Contains(m.Backup))))
        {
            bytes += await copier.CopyAsync(ObjectNames.Stack(record.Id), null, cancellationToken);
            stacks++;
        }

        var pins = 0;
        foreach (var id in state.Pins.Where(p => !theirPins.Contains(p)))
        {
            bytes += await copier.CopyAsync(ObjectNames.Pin(id), null, cancellationToken);
            pins++;
        }

        // A backup unpinned on the primary is unpinned here too, so that this target's retention applies to it again.
        foreach (var id in theirPins.Where(p => !state.Pins.Contains(p)))
        {
            await replica.UnpinAsync(id, cancellationToken);
        }

        return new ReplicaReport(target.Name, target.Display)
        {
            Started = started,
            Backups = toCopy.Count,
            Stacks = stacks,
            Packs = packsCopied,
            IndexObjects = indexObjects,
            WalFiles = walCopied,
            Pins = pins,
            SkippedByRetention = state.Manifests.Count(m => !theirIds.Contains(m.Id)) - toCopy.Count,
            Bytes = bytes,
        };
    }

    private static ParallelOptions Parallelism(ITarget from, ITarget to, CancellationToken cancellationToken)
        => new() { MaxDegreeOfParallelism = Math.Clamp(Math.Min(from.Capabilities.DefaultConcurrency, to.Capabilities.DefaultConcurrency), 1, 8), CancellationToken = cancellationToken };

    /// <summary>The backups and WAL a target receives: all of them, or what its own retention keeps.</summary>
    private sealed record ReplicaPlan(IReadOnlyList<Manifest> Backups, Dictionary<string, List<WalKeepRule>>? WalRules)
    {
        /// <summary>WAL of a source and cluster that the target's retention plans is copied when kept; all other WAL is copied.</summary>
        public bool KeepsWal(string objectName)
        {
            if (WalRules is null)
            {
                return true;
            }

            // wal/<source>/<system-id>/[<timeline+log>/]<file>
            var parts = objectName.Split('/');
            if (parts.Length < 4 || !WalRules.TryGetValue(parts[1], out var rules) || !ulong.TryParse(parts[2], out var sysid))
            {
                return true;
            }

            var rule = rules.FirstOrDefault(r => r.SystemId == sysid);
            var file = parts[^1].EndsWith(Postgres.Wal.WalArchive.SummarySuffix, StringComparison.Ordinal) ? parts[^1][..^Postgres.Wal.WalArchive.SummarySuffix.Length] : parts[^1]; // a summary goes with its segment
            return rule is null || !WalFileName.TryParse(file, rule.SegmentSize, out var wal) || rule.Keeps(wal!);
        }
    }

    private ReplicaPlan Plan(ConfiguredTarget target, PrimaryState state, List<Manifest> theirs, HashSet<string> theirPins)
    {
        if (target.Options!.Retention is null)
        {
            return new ReplicaPlan(state.Manifests, null);
        }

        // Plan as expire on the target would, over what it would hold after the copy.
        var union = state.Manifests.Concat(theirs.Where(t => state.Manifests.All(m => m.Id != t.Id))).ToList();
        var pinned = new HashSet<string>(state.Pins, StringComparer.Ordinal);
        pinned.UnionWith(theirPins);
        var now = _time.GetUtcNow();
        var keep = new HashSet<string>(StringComparer.Ordinal);
        var rules = new Dictionary<string, List<WalKeepRule>>(StringComparer.Ordinal);
        foreach (var group in union.GroupBy(m => m.Source, StringComparer.Ordinal))
        {
            var source = _workspace.Options.Sources.GetValueOrDefault(group.Key);
            var policy = target.PolicyFor(source);
            var own = group.ToList();
            var candidates = own.Select(m => new RetentionCandidate(m.Id, m.Started, pinned.Contains(m.Id), ClusterBackupInfo.FromDetails(m.Details)?.StopTime)).ToList();
            var decisions = RetentionPlanner.Plan(candidates, policy, now);
            keep.UnionWith(decisions.Where(d => d.Keep).Select(d => d.Id));
            rules[group.Key] = WalRetention.Rules(own, (source as ClusterSourceOptions)?.SystemIdValue(), decisions, policy);
        }

        return new ReplicaPlan(state.Manifests.Where(m => keep.Contains(m.Id)).ToList(), rules);
    }
}

/// <summary>
/// Copies one object between two targets holding the same repository, through a spool file (memory stays bounded
/// whatever the object's size), never overwriting; checks the SHA-256 of what was read against the object's name where
/// the name is a hash, and reads the copy back to compare.
/// </summary>
internal sealed class ObjectCopier(ITarget from, ITarget to, bool readBack)
{
    /// <param name="expectedHash">The object's name is its SHA-256 (packs, index objects): checked on the source's bytes.</param>
    /// <returns>The object's size.</returns>
    public async Task<long> CopyAsync(string name, string? expectedHash, CancellationToken cancellationToken)
    {
        var spool = Path.Combine(Path.GetTempPath(), "lifeboat-replicate-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
        try
        {
            byte[] hash = [];
            await from.LoadAsync(
                name,
                0,
                -1,
                async (stream, ct) =>
                {
                    await using var file = new FileStream(spool, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                    hash = await HashCopyAsync(stream, file, ct);
                },
                cancellationToken);
            var hex = Convert.ToHexStringLower(hash);
            if (expectedHash is not null && hex != expectedHash)
            {
                throw new DamageException($"{from.DisplayName}/{name} is damaged: its SHA-256 is {hex}, not its name; it was not replicated", [name], [], "run `lifeboat verify --read-data` on the primary");
            }

            var size = new FileInfo(spool).Length;
            try
            {
                await to.SaveFileAsync(name, spool, SaveMode.Create, cancellationToken);
            }
            catch (TargetException ex) when (ex.Kind == TargetErrorKind.AlreadyExists)
            {
                // Written meanwhile (a wal-push to this target, or another replicate): the check below compares it.
            }

            await CheckHashAsync(name, hex, cancellationToken);
            return size;
        }
        finally
        {
            File.Delete(spool);
        }
    }

    /// <summary>Reads the copy back and compares its SHA-256 (only its size when read-back is off).</summary>
    public async Task CheckHashAsync(string name, string expectedHash, CancellationToken cancellationToken)
    {
        if (!readBack)
        {
            if (await to.StatAsync(name, cancellationToken) is null)
            {
                throw new LifeboatException(ErrorCode.TargetFailed, $"{to.DisplayName}/{name} is missing right after it was written", "check the target: another process may be deleting objects");
            }

            return;
        }

        byte[] hash = [];
        await to.LoadAsync(name, 0, -1, async (stream, ct) => hash = await HashCopyAsync(stream, Stream.Null, ct), cancellationToken);
        var hex = Convert.ToHexStringLower(hash);
        if (hex != expectedHash)
        {
            throw new DamageException($"the copy of {name} on {to.DisplayName} reads back differently from the original (SHA-256 {hex}, expected {expectedHash})", [name], [], "check the target's storage; the next `lifeboat replicate` does not overwrite it: delete the damaged object there first");
        }
    }

    private static async Task<byte[]> HashCopyAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int n;
            while ((n = await input.ReadAsync(buffer, cancellationToken)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return sha.GetHashAndReset();
    }
}
