using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lifeboat.Core;

namespace Lifeboat.Repository.Crypto;

/// <summary>
/// A key slot (repository format, section 3): the master key wrapped by a key-encryption key derived from a
/// passphrase (PBKDF2-HMAC-SHA256, ≥ 600,000 iterations) or a key file (HKDF-SHA256).
/// </summary>
public sealed class KeySlot
{
    public const int MinimumIterations = 600_000;
    public const string PassphraseKind = "passphrase";
    public const string KeyFileKind = "keyfile";

    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    [JsonPropertyName("created")]
    public required DateTimeOffset Created { get; init; }

    [JsonPropertyName("host")]
    public string? Host { get; init; }

    [JsonPropertyName("user")]
    public string? User { get; init; }

    [JsonPropertyName("label")]
    public string? Label { get; init; }

    [JsonPropertyName("kdf")]
    public required KdfParameters Kdf { get; init; }

    [JsonPropertyName("wrapped")]
    public required byte[] Wrapped { get; init; }

    public static KeySlot Create(MasterKey master, KeyMaterial material, DateTimeOffset now, string? label, int iterations = MinimumIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var kdf = material.IsKeyFile
            ? new KdfParameters { Algorithm = "hkdf-sha256", Salt = salt }
            : new KdfParameters { Algorithm = "pbkdf2-sha256", Iterations = Math.Max(iterations, MinimumIterations), Salt = salt };
        var kek = DeriveKek(material, kdf);
        using var sealer = Sealer.Encrypted(kek);
        return new KeySlot
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Kind = material.IsKeyFile ? KeyFileKind : PassphraseKind,
            Created = now,
            Host = Environment.MachineName,
            User = Environment.UserName,
            Label = label,
            Kdf = kdf,
            Wrapped = sealer.Seal(master.ToJson(), SealKind.Key),
        };
    }

    /// <summary>The master key, or null when <paramref name="material"/> does not open this slot.</summary>
    public MasterKey? TryUnwrap(KeyMaterial material)
    {
        if ((Kind == KeyFileKind) != material.IsKeyFile)
        {
            return null;
        }

        var kek = DerivedKeks.GetOrDerive(material, Kdf);
        using var sealer = Sealer.Encrypted(kek);
        if (Wrapped.Length < sealer.Overhead)
        {
            return null;
        }

        var plain = new byte[Wrapped.Length - sealer.Overhead];
        return sealer.TryOpen(Wrapped, plain, SealKind.Key) ? MasterKey.FromJson(plain) : null;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, KeySlotJson.Default.KeySlot);

    public static KeySlot Parse(ReadOnlySpan<byte> json, string objectName)
    {
        var problem = TryParse(json, out var slot);
        return slot ?? throw new DamageException($"key slot {objectName} is damaged: {problem}", [objectName], []);
    }

    /// <summary>Decodes a key slot object; on failure <paramref name="slot"/> is null and the result says why.</summary>
    public static string? TryParse(ReadOnlySpan<byte> json, out KeySlot? slot)
    {
        slot = null;
        KeySlot? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(json, KeySlotJson.Default.KeySlot);
        }
        catch (JsonException ex)
        {
            return json.IsEmpty ? "it is empty" : $"it is not a valid key slot document: {ex.Message}";
        }

        // Members the format requires, checked because JSON null passes the deserializer.
        var problem = parsed switch
        {
            null => "it is empty",
            { Id: null or "" } => "it has no id",
            { Kind: not (PassphraseKind or KeyFileKind) } => $"it has the unknown kind '{parsed.Kind}'",
            { Kdf: null } or { Kdf.Algorithm: null } or { Kdf.Salt: null } => "it has no key derivation parameters",
            { Wrapped: null or { Length: 0 } } => "it holds no wrapped key",
            _ => null,
        };
        if (problem is null)
        {
            slot = parsed;
        }

        return problem;
    }

    internal static byte[] DeriveKek(KeyMaterial material, KdfParameters kdf)
    {
        switch (kdf.Algorithm)
        {
            case "pbkdf2-sha256":
                if (kdf.Iterations < MinimumIterations)
                {
                    throw new LifeboatException(ErrorCode.Damage, $"a key slot asks for {kdf.Iterations} PBKDF2 iterations, fewer than the minimum {MinimumIterations}; refusing a weakened slot");
                }

                return Rfc2898DeriveBytes.Pbkdf2(material.Bytes, kdf.Salt, kdf.Iterations, HashAlgorithmName.SHA256, 32);
            case "hkdf-sha256":
                return HKDF.DeriveKey(HashAlgorithmName.SHA256, material.Bytes, 32, kdf.Salt, Encoding.ASCII.GetBytes("lifeboat key slot"));
            default:
                throw new LifeboatException(ErrorCode.Damage, $"a key slot uses the unknown key derivation '{kdf.Algorithm}'");
        }
    }
}

public sealed class KdfParameters
{
    [JsonPropertyName("algorithm")]
    public required string Algorithm { get; init; }

    [JsonPropertyName("iterations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Iterations { get; init; }

    [JsonPropertyName("salt")]
    public required byte[] Salt { get; init; }
}

/// <summary>What opens a key slot: a passphrase, or the 32 secret bytes of a key file.</summary>
/// <summary>
/// The key-encryption keys this process derived from a passphrase, so that opening the repository again (a server opens
/// it for every request) does not spend 600,000 PBKDF2 iterations each time — about 150 ms of a core, which capped the
/// server at a few status requests a second. Every open still unwraps (and so authenticates) the slot with AES-GCM.
/// Keyed by an HMAC under a random per-process key of the passphrase, salt and iteration count, so no fast hash of the
/// passphrase is kept; the process holds the passphrase itself anyway. Bounded; key files (HKDF) are not cached.
/// </summary>
internal static class DerivedKeks
{
    private const int Capacity = 64;
    private static readonly byte[] CacheKey = RandomNumberGenerator.GetBytes(32);
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> Keks = new(StringComparer.Ordinal);

    public static byte[] GetOrDerive(KeyMaterial material, KdfParameters kdf)
    {
        if (kdf.Algorithm != "pbkdf2-sha256")
        {
            return KeySlot.DeriveKek(material, kdf);
        }

        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, CacheKey);
        hmac.AppendData(BitConverter.GetBytes(material.Bytes.Length));
        hmac.AppendData(material.Bytes);
        hmac.AppendData(kdf.Salt);
        hmac.AppendData(BitConverter.GetBytes(kdf.Iterations));
        var id = Convert.ToHexString(hmac.GetHashAndReset());
        if (Keks.TryGetValue(id, out var known))
        {
            return (byte[])known.Clone();
        }

        var kek = KeySlot.DeriveKek(material, kdf);
        if (Keks.Count >= Capacity)
        {
            Keks.Clear();
        }

        Keks[id] = (byte[])kek.Clone();
        return kek;
    }
}

public sealed class KeyMaterial
{
    private const string KeyFilePrefix = "lifeboat-key-v1:";

    private KeyMaterial(byte[] bytes, bool isKeyFile, string description)
    {
        Bytes = bytes;
        IsKeyFile = isKeyFile;
        Description = description;
    }

    internal byte[] Bytes { get; }

    public bool IsKeyFile { get; }

    /// <summary>Where the material came from ("passphrase from /etc/lifeboat/pass"), never the secret.</summary>
    public string Description { get; }

    public static KeyMaterial FromPassphrase(Secret passphrase, string description)
    {
        if (passphrase.IsEmpty)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the passphrase ({description}) is empty", "use a non-empty passphrase");
        }

        return new KeyMaterial(Encoding.UTF8.GetBytes(passphrase.Reveal()), false, description);
    }

    /// <summary>Reads a passphrase file: its content without one trailing newline.</summary>
    public static KeyMaterial FromPassphraseFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw LifeboatException.PermissionDenied(path, "read", "the passphrase file ", ex);
        }
        catch (IOException ex)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"cannot read the passphrase file {path}: {ex.Message}", "check the path and that the user running lifeboat can read it");
        }

        if (text.EndsWith("\r\n", StringComparison.Ordinal))
        {
            text = text[..^2];
        }
        else if (text.EndsWith('\n'))
        {
            text = text[..^1];
        }

        return FromPassphrase(new Secret(text), "passphrase file " + path);
    }

    /// <summary>Reads a key file (<c>lifeboat-key-v1:&lt;base64 of 32 bytes&gt;</c>).</summary>
    public static KeyMaterial FromKeyFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (UnauthorizedAccessException ex)
        {
            throw LifeboatException.PermissionDenied(path, "read", "the key file ", ex);
        }
        catch (IOException ex)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"cannot read the key file {path}: {ex.Message}", "check the path and that the user running lifeboat can read it");
        }

        byte[]? key = null;
        if (text.StartsWith(KeyFilePrefix, StringComparison.Ordinal))
        {
            try
            {
                key = Convert.FromBase64String(text[KeyFilePrefix.Length..]);
            }
            catch (FormatException)
            {
            }
        }

        if (key is null || key.Length != 32)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{path} is not a Lifeboat key file", "a key file holds one line 'lifeboat-key-v1:<base64 of 32 bytes>'; let `lifeboat repo init --key-file F` or `repo key add --key-file F` create it");
        }

        return new KeyMaterial(key, true, "key file " + path);
    }

    /// <summary>Creates a new key file with a random key, readable only by its owner (the directory's owner when root creates it in a directory another user owns).</summary>
    public static KeyMaterial CreateKeyFile(string path)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(KeyFilePrefix + Convert.ToBase64String(key) + "\n");
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        // Root making a key file in a directory another user owns (/etc/lifeboat for postgres): that user must read it.
        if (Lifeboat.Platform.Unix.IsRoot && directory is not null && Lifeboat.Platform.Unix.Lstat(directory) is { Uid: not 0 } owner)
        {
            Lifeboat.Platform.Unix.Lchown(path, owner.Uid, owner.Gid);
        }

        return new KeyMaterial(key, true, "key file " + path);
    }
}

[JsonSerializable(typeof(KeySlot))]
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class KeySlotJson : JsonSerializerContext;
