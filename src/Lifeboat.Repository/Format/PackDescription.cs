using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Repository.Format;

public enum PackType : byte
{
    Data = 0,
    Tree = 1,
}

/// <summary>A chunk inside a frame: its id and plaintext length.</summary>
public readonly record struct ChunkEntry(ChunkId Id, int Length);

/// <summary>A frame inside a pack: its sealed length and the chunks its body holds, in order.</summary>
public sealed record FrameDescription(int StoredLength, ChunkEntry[] Chunks)
{
    public long RawLength
    {
        get
        {
            long sum = 0;
            foreach (var c in Chunks)
            {
                sum += c.Length;
            }

            return sum;
        }
    }
}

/// <summary>
/// What a pack holds (repository format, sections 7 and 8): the same description is stored in the pack's header
/// and in an index object.
/// </summary>
public sealed record PackDescription(ChunkId PackId, PackType Type, int SealedHeaderLength, IReadOnlyList<FrameDescription> Frames)
{
    /// <summary>The pack's size in bytes: frames, sealed header, and the 4-byte header length.</summary>
    public long Size
    {
        get
        {
            long sum = SealedHeaderLength + 4;
            foreach (var f in Frames)
            {
                sum += f.StoredLength;
            }

            return sum;
        }
    }

    public int ChunkCount
    {
        get
        {
            var n = 0;
            foreach (var f in Frames)
            {
                n += f.Chunks.Length;
            }

            return n;
        }
    }

    public string ObjectName => ObjectNames.Pack(PackId);
}

/// <summary>Binary encoding of pack headers and index objects.</summary>
public static class PackCodec
{
    private static readonly byte[] PackMagic = Encoding.ASCII.GetBytes("LBPK");
    private static readonly byte[] IndexMagic = Encoding.ASCII.GetBytes("LBIX");
    private const byte Version = 1;

    /// <summary>The plaintext body of a pack header.</summary>
    public static byte[] WriteHeaderBody(PackType type, IReadOnlyList<FrameDescription> frames)
    {
        using var stream = new MemoryStream();
        stream.Write(PackMagic);
        stream.WriteByte(Version);
        stream.WriteByte((byte)type);
        WriteFrames(stream, frames);
        return stream.ToArray();
    }

    /// <summary>Parses a pack header body; throws <see cref="FormatException"/> when it is malformed.</summary>
    public static (PackType Type, List<FrameDescription> Frames) ReadHeaderBody(ReadOnlySpan<byte> body)
    {
        var pos = 0;
        ExpectMagic(body, ref pos, PackMagic, "pack header");
        var type = ReadPackType(body, ref pos);
        var frames = ReadFrames(body, ref pos);
        if (pos != body.Length)
        {
            throw new FormatException("trailing bytes after the pack header");
        }

        return (type, frames);
    }

    public static byte[] WriteIndexBody(IReadOnlyCollection<ChunkId> superseded, IReadOnlyCollection<PackDescription> packs)
    {
        using var stream = new MemoryStream();
        stream.Write(IndexMagic);
        stream.WriteByte(Version);
        Span<byte> id = stackalloc byte[ChunkId.Size];
        Uvarint.Write(stream, (ulong)superseded.Count);
        foreach (var s in superseded)
        {
            s.WriteTo(id);
            stream.Write(id);
        }

        Uvarint.Write(stream, (ulong)packs.Count);
        foreach (var pack in packs)
        {
            pack.PackId.WriteTo(id);
            stream.Write(id);
            stream.WriteByte((byte)pack.Type);
            Uvarint.Write(stream, (ulong)pack.SealedHeaderLength);
            WriteFrames(stream, pack.Frames);
        }

        return stream.ToArray();
    }

    public static (List<ChunkId> Superseded, List<PackDescription> Packs) ReadIndexBody(ReadOnlySpan<byte> body)
    {
        var pos = 0;
        ExpectMagic(body, ref pos, IndexMagic, "index");
        var supersededCount = ReadCount(body, ref pos, ChunkId.Size);
        var superseded = new List<ChunkId>(supersededCount);
        for (var i = 0; i < supersededCount; i++)
        {
            superseded.Add(ReadId(body, ref pos));
        }

        var packCount = ReadCount(body, ref pos, ChunkId.Size + 3);
        var packs = new List<PackDescription>(packCount);
        for (var i = 0; i < packCount; i++)
        {
            var packId = ReadId(body, ref pos);
            var type = ReadPackType(body, ref pos);
            var headerLength = ReadInt(body, ref pos);
            var frames = ReadFrames(body, ref pos);
            packs.Add(new PackDescription(packId, type, headerLength, frames));
        }

        if (pos != body.Length)
        {
            throw new FormatException("trailing bytes after the index");
        }

        return (superseded, packs);
    }

    private static void WriteFrames(Stream stream, IReadOnlyList<FrameDescription> frames)
    {
        Span<byte> id = stackalloc byte[ChunkId.Size];
        Uvarint.Write(stream, (ulong)frames.Count);
        foreach (var frame in frames)
        {
            Uvarint.Write(stream, (ulong)frame.StoredLength);
            Uvarint.Write(stream, (ulong)frame.Chunks.Length);
            foreach (var chunk in frame.Chunks)
            {
                chunk.Id.WriteTo(id);
                stream.Write(id);
                Uvarint.Write(stream, (ulong)chunk.Length);
            }
        }
    }

    private static List<FrameDescription> ReadFrames(ReadOnlySpan<byte> body, ref int pos)
    {
        var frameCount = ReadCount(body, ref pos, 2);
        var frames = new List<FrameDescription>(frameCount);
        for (var f = 0; f < frameCount; f++)
        {
            var stored = ReadInt(body, ref pos);
            var chunkCount = ReadCount(body, ref pos, ChunkId.Size + 1);
            var chunks = new ChunkEntry[chunkCount];
            for (var c = 0; c < chunkCount; c++)
            {
                var id = ReadId(body, ref pos);
                chunks[c] = new ChunkEntry(id, ReadInt(body, ref pos));
            }

            frames.Add(new FrameDescription(stored, chunks));
        }

        return frames;
    }

    private static void ExpectMagic(ReadOnlySpan<byte> body, ref int pos, byte[] magic, string what)
    {
        if (body.Length < magic.Length + 1 || !body[..magic.Length].SequenceEqual(magic))
        {
            throw new FormatException($"not a {what} (bad magic)");
        }

        pos = magic.Length;
        var version = body[pos++];
        if (version != Version)
        {
            throw new FormatException($"{what} version {version} is not supported (this build reads version {Version})");
        }
    }

    private static PackType ReadPackType(ReadOnlySpan<byte> body, ref int pos)
    {
        if (pos >= body.Length || body[pos] > (byte)PackType.Tree)
        {
            throw new FormatException("bad pack type");
        }

        return (PackType)body[pos++];
    }

    private static ChunkId ReadId(ReadOnlySpan<byte> body, ref int pos)
    {
        if (pos + ChunkId.Size > body.Length)
        {
            throw new FormatException("truncated id");
        }

        var id = new ChunkId(body.Slice(pos, ChunkId.Size));
        pos += ChunkId.Size;
        return id;
    }

    private static int ReadInt(ReadOnlySpan<byte> body, ref int pos)
    {
        if (!Uvarint.TryRead(body, ref pos, out var value) || value > int.MaxValue)
        {
            throw new FormatException("bad varint");
        }

        return (int)value;
    }

    /// <summary>Reads a count and checks it against the bytes left, so a damaged count cannot cause a huge allocation.</summary>
    private static int ReadCount(ReadOnlySpan<byte> body, ref int pos, int minBytesEach)
    {
        var count = ReadInt(body, ref pos);
        if ((long)count * minBytesEach > body.Length - pos)
        {
            throw new FormatException("count larger than the data");
        }

        return count;
    }
}
