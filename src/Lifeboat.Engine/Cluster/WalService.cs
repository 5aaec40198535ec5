using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Engine.Cluster;

/// <summary>wal-push and wal-fetch: PostgreSQL's archive_command and restore_command.</summary>
public static class WalService
{
    /// <summary>The cluster source WAL belongs to: the one named, or the only cluster source.</summary>
    public static (string Name, SourceOptions Source) ClusterSource(EngineContext context, string? name)
    {
        if (name is not null)
        {
            var source = context.GetSource(name);
            if (source.Kind != SourceKinds.Cluster)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"source '{name}' is a {source.Kind} source, not a cluster", "give the name of a cluster source");
            }

            return (name, source);
        }

        var clusters = context.Options.Sources.Where(s => s.Value.Kind == SourceKinds.Cluster).ToList();
        return clusters.Count switch
        {
            1 => (clusters[0].Key, clusters[0].Value),
            0 => throw new LifeboatException(ErrorCode.Config, $"there is no cluster source in {context.ConfigFile.Path}", "add one with `lifeboat source add-cluster NAME --pgdata DIR --conn CONNSTRING`"),
            _ => throw new LifeboatException(ErrorCode.Usage, $"{context.ConfigFile.Path} has {clusters.Count} cluster sources ({string.Join(", ", clusters.Select(c => c.Key))})", "say which with --source NAME (`lifeboat archiving setup` writes it into archive_command)"),
        };
    }

    public static async Task<PushOutcome> PushAsync(EngineContext context, string? sourceName, string path, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSource(context, sourceName);
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        var archive = new WalArchive(repository, name, source.SystemIdValue(), SegmentSize(source));
        return await archive.PushAsync(context.ResolvePath(path), cancellationToken);
    }

    public static async Task<bool> FetchAsync(EngineContext context, string? sourceName, string walName, string destination, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSource(context, sourceName);
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        var archive = new WalArchive(repository, name, source.SystemIdValue(), SegmentSize(source));
        return await archive.FetchAsync(walName, context.ResolvePath(destination), cancellationToken);
    }

    /// <summary>The WAL segment size of the cluster (from pg_control when readable, else the default 16 MiB).</summary>
    public static long SegmentSize(SourceOptions source)
    {
        try
        {
            return Postgres.Control.PgControl.Read(source.PgData!).WalSegmentSize;
        }
        catch (LifeboatException)
        {
            return WalFileName.DefaultSegmentSize;
        }
    }
}
