using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Lifeboat.Repository.Crypto;

/// <summary>What sealed bytes are; bound into the seal as associated data (repository format, section 4).</summary>
public enum SealKind
{
    Frame,
    PackHeader,
    Index,
    Manifest,
    Wal,
    Key,
    Stack,
}

/// <summary>
/// Seals and opens byte strings: AES-256-GCM with a random 96-bit nonce (<c>nonce || ciphertext || tag</c>), or, in an
/// unencrypted repository, <c>plaintext || SHA-256(plaintext)</c>. Thread-safe.
/// </summary>
public sealed class Sealer : IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;
    private static readonly byte[][] Aad = BuildAad();
    private readonly byte[]? _key;
    private readonly ConcurrentBag<AesGcm> _pool = [];

    private Sealer(byte[]? key) => _key = key;

    public static Sealer Encrypted(byte[] encKey)
    {
        if (encKey.Length != 32)
        {
            throw new ArgumentException("AES-256 needs a 32-byte key", nameof(encKey));
        }

        return new Sealer(encKey);
    }

    public static Sealer Unencrypted() => new(null);

    public bool IsEncrypted => _key is not null;

    /// <summary>Bytes a seal adds to its plaintext.</summary>
    public int Overhead => IsEncrypted ? NonceSize + TagSize : SHA256.HashSizeInBytes;

    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="destination"/> (exactly plaintext + <see cref="Overhead"/> bytes).</summary>
    public void Seal(ReadOnlySpan<byte> plaintext, Span<byte> destination, SealKind kind)
    {
        if (destination.Length != plaintext.Length + Overhead)
        {
            throw new ArgumentException("destination has the wrong length", nameof(destination));
        }

        if (_key is null)
        {
            plaintext.CopyTo(destination);
            SHA256.HashData(plaintext, destination[plaintext.Length..]);
            return;
        }

        var nonce = destination[..NonceSize];
        RandomNumberGenerator.Fill(nonce);
        var aes = Rent();
        try
        {
            aes.Encrypt(nonce, plaintext, destination.Slice(NonceSize, plaintext.Length), destination[(NonceSize + plaintext.Length)..], Aad[(int)kind]);
        }
        finally
        {
            _pool.Add(aes);
        }
    }

    public byte[] Seal(ReadOnlySpan<byte> plaintext, SealKind kind)
    {
        var result = new byte[plaintext.Length + Overhead];
        Seal(plaintext, result, kind);
        return result;
    }

    /// <summary>
    /// Opens sealed bytes into <paramref name="destination"/> (sealed length − <see cref="Overhead"/>).
    /// False when they were modified, truncated, or sealed as another kind or with another key.
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> sealedBytes, Span<byte> destination, SealKind kind)
    {
        if (sealedBytes.Length < Overhead || destination.Length != sealedBytes.Length - Overhead)
        {
            return false;
        }

        if (_key is null)
        {
            var body = sealedBytes[..^SHA256.HashSizeInBytes];
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(body, hash);
            if (!CryptographicOperations.FixedTimeEquals(hash, sealedBytes[^SHA256.HashSizeInBytes..]))
            {
                return false;
            }

            body.CopyTo(destination);
            return true;
        }

        var aes = Rent();
        try
        {
            aes.Decrypt(sealedBytes[..NonceSize], sealedBytes.Slice(NonceSize, destination.Length), sealedBytes[^TagSize..], destination, Aad[(int)kind]);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            destination.Clear();
            return false;
        }
        finally
        {
            _pool.Add(aes);
        }
    }

    public void Dispose()
    {
        while (_pool.TryTake(out var aes))
        {
            aes.Dispose();
        }
    }

    private AesGcm Rent() => _pool.TryTake(out var aes) ? aes : new AesGcm(_key!, TagSize);

    private static byte[][] BuildAad()
    {
        var kinds = Enum.GetValues<SealKind>();
        var result = new byte[kinds.Length][];
        foreach (var kind in kinds)
        {
            var label = kind switch
            {
                SealKind.Frame => "frame",
                SealKind.PackHeader => "pack-header",
                SealKind.Index => "index",
                SealKind.Manifest => "manifest",
                SealKind.Wal => "wal",
                SealKind.Key => "key",
                SealKind.Stack => "stack",
                _ => throw new InvalidOperationException(),
            };
            result[(int)kind] = Encoding.ASCII.GetBytes("lifeboat/v1/" + label);
        }

        return result;
    }
}
