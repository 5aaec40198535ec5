using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;

namespace Lifeboat.Repository;

/// <summary>What a target holds, seen from a repository that wants to use it as a replica.</summary>
public enum ReplicaState
{
    /// <summary>Nothing (or only temporary objects and key slots of this repository left by an interrupted start).</summary>
    Empty,
    /// <summary>This repository: its <c>config</c> has the same id and MAC.</summary>
    SameRepository,
}

/// <summary>
/// Checks that a target is empty or holds this same repository (repository format, section 20), and starts a replica
/// on an empty one: key slots first, then <c>config</c>, as <c>repo init</c> writes them. A target holding anything else
/// is refused (exit 2), so a replica never mixes two repositories.
/// </summary>
public static class ReplicaIdentity
{
    /// <summary>Objects named so are left by an interrupted <c>lifeboat target verify</c>; they are not foreign content.</summary>
    public const string ProbePrefix = "lifeboat-probe-";

    /// <exception cref="LifeboatException">Refused (exit 2): another repository, a modified config, or foreign objects.</exception>
    /// <exception cref="TargetException">The target could not be read.</exception>
    public static async Task<ReplicaState> CheckAsync(Repository repository, ITarget target, CancellationToken cancellationToken)
    {
        if (await target.StatAsync(ObjectNames.Config, cancellationToken) is not null)
        {
            var bytes = await target.ReadAllAsync(ObjectNames.Config, cancellationToken);
            RepositoryConfig other;
            try
            {
                other = RepositoryConfig.Parse(bytes, target.DisplayName);
            }
            catch (LifeboatException ex)
            {
                throw new LifeboatException(ErrorCode.Refused, $"{target.DisplayName} holds a config object that is not this repository's: {ex.Message}", "use an empty location for the replica", ex);
            }

            if (other.Id != repository.Config.Id)
            {
                throw new LifeboatException(
                    ErrorCode.Refused,
                    $"{target.DisplayName} holds another Lifeboat repository (id {other.Id}, created {other.Created:yyyy-MM-dd}); this repository is {repository.Config.Id}",
                    "a replica must be empty or hold this same repository: choose another bucket, container, prefix or directory");
            }

            if (other.Mac != repository.Config.Mac)
            {
                throw new LifeboatException(
                    ErrorCode.Refused,
                    $"{target.DisplayName} holds repository {other.Id}, but its config object differs from this one's (it was modified)",
                    "compare the two config objects; if the replica's was tampered with, move the replica aside and replicate into an empty location");
            }

            return ReplicaState.SameRepository;
        }

        var slots = (await repository.Target.ListAllAsync(ObjectNames.KeysPrefix, cancellationToken)).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var foreign = new List<string>();
        try
        {
            await foreach (var item in target.ListAsync("", cancellationToken))
            {
                var last = item.Name[(item.Name.LastIndexOf('/') + 1)..];
                if (last.Contains(".tmp-", StringComparison.Ordinal) || item.Name.StartsWith(ProbePrefix, StringComparison.Ordinal) || slots.Contains(item.Name))
                {
                    continue;
                }

                foreign.Add(item.Name);
                if (foreign.Count == 3)
                {
                    break;
                }
            }
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            return ReplicaState.Empty; // a directory not created yet: StartAsync creates it
        }

        if (foreign.Count > 0)
        {
            throw new LifeboatException(
                ErrorCode.Refused,
                $"{target.DisplayName} is not empty and holds no Lifeboat repository (it has {string.Join(", ", foreign)}{(foreign.Count == 3 ? ", …" : "")})",
                "a replica must be empty or hold this same repository: choose an empty bucket, container, prefix or directory");
        }

        return ReplicaState.Empty;
    }

    /// <summary>Makes an empty target a replica: the key slots, then the config object, byte for byte.</summary>
    /// <returns>The number of key slots written.</returns>
    public static async Task<int> StartAsync(Repository repository, ITarget target, CancellationToken cancellationToken)
    {
        if (target.Innermost() is Targets.Local.LocalTarget local)
        {
            Repository.CreateLocalRoot(local.Root);
        }

        var keys = await SyncKeysAsync(repository, target, cancellationToken);
        var config = await repository.Target.ReadAllAsync(ObjectNames.Config, cancellationToken);
        try
        {
            await target.SaveAsync(ObjectNames.Config, ObjectSource.FromBytes(config), SaveMode.Create, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.AlreadyExists)
        {
            // Another process started the replica meanwhile: fine when it is this repository.
            await CheckAsync(repository, target, cancellationToken);
        }

        return keys.Copied;
    }

    /// <summary>
    /// Makes the replica's key slots those of the repository: missing slots are copied first, then slots the repository no
    /// longer has are deleted (removing a slot revokes a passphrase or key file on every target).
    /// </summary>
    public static async Task<(int Copied, int Removed)> SyncKeysAsync(Repository repository, ITarget target, CancellationToken cancellationToken)
    {
        var ours = await repository.Target.ListAllAsync(ObjectNames.KeysPrefix, cancellationToken);
        var theirs = (await target.ListAllAsync(ObjectNames.KeysPrefix, cancellationToken)).ToDictionary(o => o.Name, StringComparer.Ordinal);
        var copied = 0;
        foreach (var slot in ours)
        {
            if (theirs.TryGetValue(slot.Name, out var existing) && existing.Size == slot.Size)
            {
                continue;
            }

            var bytes = await repository.Target.ReadAllAsync(slot.Name, cancellationToken);
            await target.SaveAsync(slot.Name, ObjectSource.FromBytes(bytes), SaveMode.Replace, cancellationToken);
            copied++;
        }

        var keep = ours.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        if (keep.Count > 0)
        {
            foreach (var name in theirs.Keys.Where(n => !keep.Contains(n)))
            {
                await target.DeleteAsync(name, cancellationToken);
                removed++;
            }
        }

        return (copied, removed);
    }
}
