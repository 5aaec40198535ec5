using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Lifeboat.Repository.Format;

/// <summary>A backup's manifest (repository format, section 10). Immutable once written.</summary>
public sealed record Manifest
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("version")]
    public int Version { get; init; } = CurrentVersion;

    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("source")]
    public required string Source { get; init; }

    /// <summary>files, config, cluster, logical.</summary>
    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    /// <summary>full or incr.</summary>
    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("parent")]
    public string? Parent { get; init; }

    [JsonPropertyName("started")]
    public required DateTimeOffset Started { get; init; }

    [JsonPropertyName("finished")]
    public required DateTimeOffset Finished { get; init; }

    [JsonPropertyName("host")]
    public string? Host { get; init; }

    /// <summary>The tree's chunk ids, in order (hex).</summary>
    [JsonPropertyName("tree")]
    public required List<string> Tree { get; init; }

    [JsonPropertyName("stats")]
    public required BackupStats Stats { get; init; }

    [JsonPropertyName("tags")]
    public Dictionary<string, string>? Tags { get; init; }

    /// <summary>Where a file or config source was read from.</summary>
    [JsonPropertyName("paths")]
    public List<string>? Paths { get; init; }

    /// <summary>Source-specific metadata (for a cluster: LSNs, timeline, system identifier).</summary>
    [JsonPropertyName("details")]
    public JsonObject? Details { get; init; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJson.Default.Manifest);

    public static Manifest Parse(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, ManifestJson.Default.Manifest) ?? throw new JsonException("empty manifest");
}

public sealed record BackupStats
{
    /// <summary>Regular files in the backup.</summary>
    [JsonPropertyName("files")]
    public long Files { get; init; }

    [JsonPropertyName("dirs")]
    public long Dirs { get; init; }

    /// <summary>Bytes of file content in the backup (its original size).</summary>
    [JsonPropertyName("bytes")]
    public long Bytes { get; init; }

    /// <summary>Bytes actually read from the source (unchanged files are not read by an incremental).</summary>
    [JsonPropertyName("bytesRead")]
    public long BytesRead { get; init; }

    [JsonPropertyName("chunks")]
    public long Chunks { get; init; }

    /// <summary>Chunks that were not yet in the repository.</summary>
    [JsonPropertyName("newChunks")]
    public long NewChunks { get; init; }

    /// <summary>Plaintext bytes of the new chunks.</summary>
    [JsonPropertyName("newBytes")]
    public long NewBytes { get; init; }

    /// <summary>Bytes this backup added to the repository (packs, index, manifest).</summary>
    [JsonPropertyName("storedBytes")]
    public long StoredBytes { get; init; }

    [JsonPropertyName("unchangedFiles")]
    public long UnchangedFiles { get; init; }

    [JsonPropertyName("treeChunks")]
    public long TreeChunks { get; init; }
}

[JsonSerializable(typeof(Manifest))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class ManifestJson : JsonSerializerContext;
