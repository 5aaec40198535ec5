using System.Security.Cryptography;
using Lifeboat.Core;

namespace Lifeboat.Repository.Crypto;

/// <summary>
/// Computes chunk ids: HMAC-SHA256 keyed with the repository's idKey. Not thread-safe: one per worker
/// (it keeps a keyed HMAC state to avoid re-keying for every 8 KiB page).
/// </summary>
public sealed class ChunkHasher : IDisposable
{
    private readonly IncrementalHash _hmac;

    public ChunkHasher(byte[] idKey) => _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, idKey);

    public ChunkId Compute(ReadOnlySpan<byte> chunk)
    {
        Span<byte> digest = stackalloc byte[ChunkId.Size];
        _hmac.AppendData(chunk);
        _hmac.GetHashAndReset(digest);
        return new ChunkId(digest);
    }

    public void Dispose() => _hmac.Dispose();
}
