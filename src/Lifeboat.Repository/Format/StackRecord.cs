using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lifeboat.Repository.Format;

/// <summary>
/// A stack backup (repository format, section 19): the backups of an application's sources taken together, and the
/// point of each cluster they are consistent with. Written after every member's manifest; immutable.
/// </summary>
public sealed record StackRecord
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")]
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The stack backup's id (a backup id; not the id of any member).</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The stack's name in the configuration.</summary>
    [JsonPropertyName("stack")]
    public required string Stack { get; init; }

    [JsonPropertyName("started")]
    public required DateTimeOffset Started { get; init; }

    [JsonPropertyName("finished")]
    public required DateTimeOffset Finished { get; init; }

    [JsonPropertyName("host")]
    public string? Host { get; init; }

    /// <summary>The member backups, in the order they were taken.</summary>
    [JsonPropertyName("members")]
    public required List<StackMember> Members { get; init; }

    /// <summary>For every cluster source: the restore point created after its backup, before the files were read.</summary>
    [JsonPropertyName("points")]
    public List<StackPoint> Points { get; init; } = [];

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, StackJson.Default.StackRecord);

    public static StackRecord Parse(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, StackJson.Default.StackRecord) ?? throw new JsonException("empty stack record");
}

public sealed record StackMember
{
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    [JsonPropertyName("backup")]
    public required string Backup { get; init; }
}

public sealed record StackPoint
{
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>The name given to pg_create_restore_point.</summary>
    [JsonPropertyName("restorePoint")]
    public required string RestorePoint { get; init; }

    /// <summary>The WAL position of the restore point record.</summary>
    [JsonPropertyName("lsn")]
    public required string Lsn { get; init; }

    [JsonPropertyName("timeline")]
    public uint Timeline { get; init; }

    /// <summary>The server's clock when the point was created.</summary>
    [JsonPropertyName("time")]
    public required DateTimeOffset Time { get; init; }
}

[JsonSerializable(typeof(StackRecord))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class StackJson : JsonSerializerContext;
