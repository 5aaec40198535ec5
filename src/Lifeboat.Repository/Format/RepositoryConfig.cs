using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lifeboat.Core;
using Lifeboat.Repository.Chunking;

namespace Lifeboat.Repository.Format;

/// <summary>The <c>config</c> object (repository format, section 5).</summary>
public sealed record RepositoryConfig
{
    public const string FormatName = "lifeboat-repository";
    public const int CurrentVersion = 1;
    public const string EncryptionAesGcm = "aes-256-gcm";
    public const string EncryptionNone = "none";

    [JsonPropertyName("format")]
    public string Format { get; init; } = FormatName;

    [JsonPropertyName("version")]
    public int Version { get; init; } = CurrentVersion;

    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("created")]
    public required DateTimeOffset Created { get; init; }

    [JsonPropertyName("encryption")]
    public required string Encryption { get; init; }

    [JsonPropertyName("compression")]
    public CompressionSettings Compression { get; init; } = new();

    [JsonPropertyName("chunker")]
    public ChunkerSettings Chunker { get; init; } = new();

    [JsonPropertyName("frameSize")]
    public int FrameSize { get; init; } = 128 * 1024;

    [JsonPropertyName("packSize")]
    public long PackSize { get; init; } = 32L * 1024 * 1024;

    [JsonPropertyName("plainKeys")]
    public PlainKeys? PlainKeys { get; init; }

    [JsonPropertyName("mac")]
    public string? Mac { get; init; }

    [JsonIgnore]
    public bool IsEncrypted => Encryption == EncryptionAesGcm;

    public RepositoryConfig WithMac(byte[] macKey) => this with { Mac = Convert.ToHexStringLower(HMACSHA256.HashData(macKey, Canonical())) };

    public bool MacIsValid(byte[] macKey)
    {
        if (Mac is null || !Lifeboat.Core.Hex.IsHex(Mac) || Mac.Length != 64)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(macKey, Canonical()), Convert.FromHexString(Mac));
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RepositoryConfigJson.Indented.RepositoryConfig);

    /// <summary>Parses and checks the parts a reader must understand; throws <see cref="LifeboatException"/> otherwise.</summary>
    public static RepositoryConfig Parse(ReadOnlySpan<byte> json, string where)
    {
        RepositoryConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, RepositoryConfigJson.Indented.RepositoryConfig);
        }
        catch (JsonException ex)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"{where} has a config object that is not valid JSON ({ex.Message})", "this is not a Lifeboat repository, or its config object is damaged");
        }

        if (config is null || config.Format != FormatName)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"{where} is not a Lifeboat repository", "check the repository URL");
        }

        if (config.Version != CurrentVersion)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"{where} uses repository format version {config.Version}; this build reads version {CurrentVersion}", "use a Lifeboat release that supports this version");
        }

        if (config.Encryption is not (EncryptionAesGcm or EncryptionNone) || (config.Encryption == EncryptionNone) != (config.PlainKeys is not null))
        {
            throw new DamageException($"{where}: the config object names an unknown encryption '{config.Encryption}' or its keys are inconsistent", [ObjectNames.Config], []);
        }

        try
        {
            config.Chunker.Data.ToSizes().Validate();
            config.Chunker.Tree.ToSizes().Validate();
        }
        catch (ArgumentException ex)
        {
            throw new DamageException($"{where}: the config object has invalid chunker sizes: {ex.Message}", [ObjectNames.Config], []);
        }

        if (config.Chunker.BlockSize is < 512 or > 1 << 20 || config.FrameSize is < 4096 or > 16 << 20 || config.PackSize < 1 << 20)
        {
            throw new DamageException($"{where}: the config object has invalid sizes", [ObjectNames.Config], []);
        }

        return config;
    }

    private byte[] Canonical() => JsonSerializer.SerializeToUtf8Bytes(this with { Mac = null }, RepositoryConfigJson.Compact.RepositoryConfig);
}

public sealed record CompressionSettings
{
    [JsonPropertyName("algorithm")]
    public string Algorithm { get; init; } = "zstd";

    [JsonPropertyName("level")]
    public int Level { get; init; } = 3;
}

public sealed record ChunkerSettings
{
    [JsonPropertyName("data")]
    public SizeSettings Data { get; init; } = SizeSettings.From(ChunkerSizes.Data);

    [JsonPropertyName("tree")]
    public SizeSettings Tree { get; init; } = SizeSettings.From(ChunkerSizes.Tree);

    [JsonPropertyName("blockSize")]
    public int BlockSize { get; init; } = 8192;
}

public sealed record SizeSettings
{
    [JsonPropertyName("min")]
    public int Min { get; init; }

    [JsonPropertyName("avg")]
    public int Avg { get; init; }

    [JsonPropertyName("max")]
    public int Max { get; init; }

    public static SizeSettings From(ChunkerSizes sizes) => new() { Min = sizes.Min, Avg = sizes.Average, Max = sizes.Max };

    public ChunkerSizes ToSizes() => new(Min, Avg, Max);
}

/// <summary>In an unencrypted repository only: the keys that would otherwise be inside key slots.</summary>
public sealed record PlainKeys
{
    [JsonPropertyName("idKey")]
    public required byte[] IdKey { get; init; }

    [JsonPropertyName("chunkerKey")]
    public required byte[] ChunkerKey { get; init; }

    [JsonPropertyName("macKey")]
    public required byte[] MacKey { get; init; }
}

[JsonSerializable(typeof(RepositoryConfig))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class RepositoryConfigJson : JsonSerializerContext
{
    public static RepositoryConfigJson Compact { get; } = new(new JsonSerializerOptions { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull });

    public static RepositoryConfigJson Indented { get; } = new(new JsonSerializerOptions { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true });
}
