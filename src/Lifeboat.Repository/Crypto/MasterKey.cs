using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lifeboat.Repository.Crypto;

/// <summary>
/// The repository's master key (repository format, section 3): four independent random 32-byte keys.
/// Generated once at <c>repo init</c>; key slots wrap it.
/// </summary>
public sealed class MasterKey
{
    public const int KeySize = 32;

    public MasterKey(byte[] encKey, byte[] idKey, byte[] chunkerKey, byte[] macKey)
    {
        foreach (var k in new[] { encKey, idKey, chunkerKey, macKey })
        {
            if (k.Length != KeySize)
            {
                throw new ArgumentException($"every key is {KeySize} bytes");
            }
        }

        EncKey = encKey;
        IdKey = idKey;
        ChunkerKey = chunkerKey;
        MacKey = macKey;
    }

    public byte[] EncKey { get; }

    public byte[] IdKey { get; }

    public byte[] ChunkerKey { get; }

    public byte[] MacKey { get; }

    public static MasterKey Generate() => new(
        RandomNumberGenerator.GetBytes(KeySize),
        RandomNumberGenerator.GetBytes(KeySize),
        RandomNumberGenerator.GetBytes(KeySize),
        RandomNumberGenerator.GetBytes(KeySize));

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(new Wire(EncKey, IdKey, ChunkerKey, MacKey), MasterKeyJson.Default.Wire);

    public static MasterKey? FromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var wire = JsonSerializer.Deserialize(json, MasterKeyJson.Default.Wire);
            return wire is null ? null : new MasterKey(wire.EncKey, wire.IdKey, wire.ChunkerKey, wire.MacKey);
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            return null;
        }
    }

    internal sealed record Wire(
        [property: JsonPropertyName("encKey")] byte[] EncKey,
        [property: JsonPropertyName("idKey")] byte[] IdKey,
        [property: JsonPropertyName("chunkerKey")] byte[] ChunkerKey,
        [property: JsonPropertyName("macKey")] byte[] MacKey);
}

[JsonSerializable(typeof(MasterKey.Wire))]
internal sealed partial class MasterKeyJson : JsonSerializerContext;
