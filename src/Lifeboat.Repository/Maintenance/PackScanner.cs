using System.Buffers.Binary;
using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;

namespace Lifeboat.Repository.Maintenance;

/// <summary>Reads packs directly: their headers (to rebuild an index) or all of their bytes (to verify them).</summary>
public static class PackScanner
{
    /// <summary>Reads a pack's trailing header; throws <see cref="FormatException"/> when it is damaged.</summary>
    public static async Task<PackDescription> ReadHeaderAsync(Repository repository, ChunkId packId, long size, CancellationToken cancellationToken)
    {
        var name = ObjectNames.Pack(packId);
        if (size < 4 + repository.Sealer.Overhead)
        {
            throw new FormatException("the pack is too short to hold a header");
        }

        var tail = await repository.Target.ReadRangeAsync(name, size - 4, 4, cancellationToken);
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        if (headerLength > size - 4 || headerLength < repository.Sealer.Overhead + 1)
        {
            throw new FormatException($"the header length {headerLength} does not fit the pack size {size}");
        }

        var sealedHeader = await repository.Target.ReadRangeAsync(name, size - 4 - headerLength, (int)headerLength, cancellationToken);
        using var codec = repository.CreateCodec();
        var body = codec.TryDecode(sealedHeader, SealKind.PackHeader, out var error) ?? throw new FormatException("the header cannot be opened: " + error);
        var (type, frames) = PackCodec.ReadHeaderBody(body);
        var description = new PackDescription(packId, type, (int)headerLength, frames);
        if (description.Size != size)
        {
            throw new FormatException($"the header describes {description.Size} bytes but the pack has {size}");
        }

        return description;
    }

    /// <summary>
    /// Reads a whole pack and checks everything: its hash against its name, every frame opens and decompresses,
    /// every chunk's HMAC matches its id, and its header matches <paramref name="expected"/> (from the index).
    /// Returns null when the pack is sound, else the problem.
    /// </summary>
    public static async Task<string?> VerifyAsync(Repository repository, PackDescription expected, CancellationToken cancellationToken)
    {
        var name = expected.ObjectName;
        string? problem = null;
        long bytesRead = 0;
        try
        {
            await repository.Target.LoadAsync(name, 0, -1, async (stream, ct) =>
            {
                problem = null;
                bytesRead = 0;
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                using var codec = repository.CreateCodec();
                using var hasher = repository.CreateHasher();
                var offset = 0L;
                foreach (var frame in expected.Frames)
                {
                    var sealedFrame = new byte[frame.StoredLength];
                    await stream.ReadExactlyAsync(sealedFrame, ct);
                    bytesRead += sealedFrame.Length;
                    sha.AppendData(sealedFrame);
                    if (problem is null)
                    {
                        problem = CheckFrame(codec, hasher, sealedFrame, frame, offset);
                    }

                    offset += frame.StoredLength;
                }

                using var rest = new MemoryStream();
                await stream.CopyToAsync(rest, ct);
                var trailer = rest.ToArray();
                bytesRead += trailer.Length;
                sha.AppendData(trailer);
                if (new ChunkId(sha.GetHashAndReset()) != expected.PackId)
                {
                    problem ??= "its content does not match its name (SHA-256 mismatch)";
                }

                problem ??= CheckHeader(codec, trailer, expected);
            }, cancellationToken);
        }
        catch (EndOfStreamException)
        {
            return $"the pack is shorter than the index says ({bytesRead} of {expected.Size} bytes)";
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            return "the pack is missing";
        }

        return problem;
    }

    private static string? CheckFrame(ObjectCodec codec, Crypto.ChunkHasher hasher, byte[] sealedFrame, FrameDescription frame, long offset)
    {
        var body = codec.TryDecode(sealedFrame, SealKind.Frame, out var error, maxBodyLength: (int)Math.Max(frame.RawLength, 1));
        if (body is null)
        {
            return $"the frame at offset {offset} cannot be opened: {error}";
        }

        if (body.Length != frame.RawLength)
        {
            return $"the frame at offset {offset} holds {body.Length} bytes, the index says {frame.RawLength}";
        }

        var position = 0;
        foreach (var chunk in frame.Chunks)
        {
            if (hasher.Compute(body.AsSpan(position, chunk.Length)) != chunk.Id)
            {
                return $"chunk {chunk.Id} (frame at offset {offset}) does not match its id";
            }

            position += chunk.Length;
        }

        return null;
    }

    private static string? CheckHeader(ObjectCodec codec, byte[] trailer, PackDescription expected)
    {
        if (trailer.Length < 4)
        {
            return "the pack has no header";
        }

        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(trailer.Length - 4));
        if (headerLength != trailer.Length - 4 || headerLength != expected.SealedHeaderLength)
        {
            return "the pack's header length does not match the index";
        }

        var body = codec.TryDecode(trailer.AsSpan(0, trailer.Length - 4), SealKind.PackHeader, out var error);
        if (body is null)
        {
            return "the pack header cannot be opened: " + error;
        }

        try
        {
            var (type, frames) = PackCodec.ReadHeaderBody(body);
            if (type != expected.Type || frames.Count != expected.Frames.Count)
            {
                return "the pack header does not match the index";
            }

            for (var i = 0; i < frames.Count; i++)
            {
                if (frames[i].StoredLength != expected.Frames[i].StoredLength || !frames[i].Chunks.AsSpan().SequenceEqual(expected.Frames[i].Chunks))
                {
                    return "the pack header does not match the index";
                }
            }
        }
        catch (FormatException ex)
        {
            return "the pack header is malformed: " + ex.Message;
        }

        return null;
    }
}
