using System.Text.Json.Nodes;
using Lifeboat.Repository.Format;

namespace Lifeboat.Engine.UseCases.Backups;

/// <summary>The figures of a backup (manifest stats).</summary>
public sealed record BackupStatsView(long Files, long Dirs, long Bytes, long BytesRead, long UnchangedFiles, long Chunks, long NewChunks, long NewBytes, long StoredBytes, long TreeChunks)
{
    public static BackupStatsView From(BackupStats s) => new(s.Files, s.Dirs, s.Bytes, s.BytesRead, s.UnchangedFiles, s.Chunks, s.NewChunks, s.NewBytes, s.StoredBytes, s.TreeChunks);
}

/// <summary>A backup as `list`, `info` and the API show it: its manifest without the tree.</summary>
/// <param name="Details">Kind-specific details as the manifest holds them (repository format, section 10).</param>
public record BackupView(
    string Id,
    string Source,
    string Kind,
    string Type,
    string? Parent,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    double DurationSeconds,
    string? Host,
    IReadOnlyList<string>? Paths,
    BackupStatsView Stats,
    IReadOnlyDictionary<string, string>? Tags,
    JsonObject? Details)
{
    public static BackupView From(Manifest m) => new(
        m.Id,
        m.Source,
        m.Kind,
        m.Type,
        m.Parent,
        m.Started,
        m.Finished,
        Math.Round((m.Finished - m.Started).TotalSeconds, 3),
        m.Host,
        m.Paths,
        BackupStatsView.From(m.Stats),
        m.Tags,
        m.Details?.DeepClone().AsObject());
}
