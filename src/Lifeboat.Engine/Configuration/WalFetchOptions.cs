using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// Sources:NAME:WalFetch: how `wal-fetch` (restore_command) reads ahead of recovery. With <see cref="Prefetch"/> on, the
/// first wal-fetch of a recovery starts one background prefetcher that fetches the next segments into a spool in
/// pg_wal (docs/cli.md, "WAL prefetch"), so that the following wal-fetch calls only move a file.
/// </summary>
public sealed class WalFetchOptions
{
    /// <summary>Read ahead of recovery (default on); off: every wal-fetch reads the repository itself.</summary>
    public bool Prefetch { get; set; } = true;

    /// <summary>The most the spool holds, in bytes (rounded down to whole segments, at least one): 128 MiB, 8 segments of 16 MiB.</summary>
    public long QueueBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>How many segments the prefetcher fetches at the same time.</summary>
    public int Workers { get; set; } = 2;

    /// <summary>The prefetcher exits (and removes its spool) when no wal-fetch asked for a segment for this long.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The queue in whole segments of <paramref name="segmentSize"/> bytes (at least one).</summary>
    public int QueueSegments(long segmentSize) => (int)Math.Clamp(QueueBytes / segmentSize, 1, 1024);

    internal void Validate(string source, string configPath)
    {
        if (QueueBytes < 1024 * 1024)
        {
            throw new LifeboatException(ErrorCode.Config, $"Sources:{source}:WalFetch:QueueBytes = {QueueBytes} in {configPath} is less than 1 MiB", "use at least one WAL segment's size, e.g. 134217728 (128 MiB, 8 segments of 16 MiB)");
        }

        if (Workers is < 1 or > 64)
        {
            throw new LifeboatException(ErrorCode.Config, $"Sources:{source}:WalFetch:Workers = {Workers} in {configPath} is out of range", "use 1 to 64 parallel fetches");
        }

        if (IdleTimeout <= TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Config, $"Sources:{source}:WalFetch:IdleTimeout in {configPath} must be positive", "use a duration such as 00:01:00");
        }
    }
}
