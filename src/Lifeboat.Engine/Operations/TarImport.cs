using System.Buffers;
using System.Formats.Tar;
using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Repository.Trees;
using Lifeboat.Repository.Writing;

namespace Lifeboat.Engine.Operations;

/// <summary>
/// Reads a tar archive from a stream (ustar, pax, GNU or v7, as System.Formats.Tar reads them) into tree entries,
/// each file's contents stored by the writer as it is read — the archive is never held in memory or on disk. Member
/// names are normalised (no leading <c>./</c> or <c>/</c>, no <c>..</c>); the missing parent directories and the root
/// are added; the entries come back in <see cref="TreeOrder"/>, ready for a <see cref="BackupSession"/>. A stream that
/// is not a tar, or a member that cannot be a tree entry (a device, a FIFO), raises <see cref="ErrorCode.InvalidInput"/>
/// naming «body»; nothing is committed then (chunks already stored are unreferenced, and prune removes them).
/// </summary>
public static class TarImport
{
    public sealed record Imported(TreeEntry Entry, Task<ChunkId[]>? Chunks);

    /// <param name="map">Where a member (its normalised name) goes in the tree; it throws to refuse a member.</param>
    /// <param name="copyTo">For a file's tree path, a local file to copy its contents to as well (small files the caller must read), or null.</param>
    public static async Task<List<Imported>> ReadAsync(Stream body, RepositoryWriter writer, Func<string, string> map, long nowNs, CancellationToken cancellationToken, Func<string, string?>? copyTo = null)
    {
        var entries = new Dictionary<string, Imported>(StringComparer.Ordinal);
        var buffer = ArrayPool<byte>.Shared.Rent(writer.StreamBufferSize);
        try
        {
            var reader = new TarReader(body, leaveOpen: true);
            var members = 0;
            while (await Next(reader, cancellationToken) is { } member)
            {
                members++;
                if (member.EntryType is TarEntryType.ExtendedAttributes or TarEntryType.GlobalExtendedAttributes)
                {
                    continue;
                }

                var name = Normalise(member.Name);
                if (name.Length == 0)
                {
                    continue; // "./" itself
                }

                var path = map(name);
                var entry = new TreeEntry
                {
                    Type = EntryType.File,
                    Path = path,
                    Mode = (int)member.Mode & 0xFFF,
                    Uid = member.Uid,
                    Gid = member.Gid,
                    User = member is PosixTarEntry { UserName.Length: > 0 } p ? p.UserName : null,
                    Group = member is PosixTarEntry { GroupName.Length: > 0 } g ? g.GroupName : null,
                    MTime = MTimeNs(member),
                    CTime = nowNs,
                };
                Task<ChunkId[]>? chunks = null;
                switch (member.EntryType)
                {
                    case TarEntryType.Directory:
                        entry.Type = EntryType.Directory;
                        break;
                    case TarEntryType.SymbolicLink:
                        entry.Type = EntryType.Symlink;
                        entry.Target = member.LinkName;
                        break;
                    case TarEntryType.HardLink:
                        var first = map(Normalise(member.LinkName));
                        if (!entries.TryGetValue(first, out var linked) || linked.Entry.Type != EntryType.File)
                        {
                            throw Bad($"member '{member.Name}' is a hard link to '{member.LinkName}', which is not a file earlier in the archive");
                        }

                        entry.HardlinkOf = first;
                        entry.Size = linked.Entry.Size;
                        entry.Chunking = "cdc";
                        chunks = linked.Chunks;
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        var list = writer.BeginList();
                        if (member.DataStream is null)
                        {
                            entry.Size = 0;
                        }
                        else if (copyTo?.Invoke(path) is { } copy)
                        {
                            await using var file = new FileStream(copy, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                            await using var tee = new TeeStream(member.DataStream, file);
                            entry.Size = await writer.SubmitStreamAsync(list, tee, buffer, cancellationToken);
                        }
                        else
                        {
                            entry.Size = await writer.SubmitStreamAsync(list, member.DataStream, buffer, cancellationToken);
                        }

                        entry.Chunking = "cdc";
                        chunks = list.CompleteAsync();
                        break;
                    default:
                        throw Bad($"member '{member.Name}' is a {member.EntryType}, which a backup cannot hold (files, directories and links only)");
                }

                entries[path] = new Imported(entry, chunks);
            }

            if (members == 0)
            {
                throw Bad("the archive is empty");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        // Parents the archive left out, and the root.
        foreach (var path in entries.Keys.ToList())
        {
            var parent = path;
            while (parent.Length > 0)
            {
                var slash = parent.LastIndexOf('/');
                parent = slash < 0 ? "" : parent[..slash];
                if (!entries.TryAdd(parent, new Imported(new TreeEntry { Type = EntryType.Directory, Path = parent, Mode = 0x1ED, MTime = nowNs, CTime = nowNs }, null)))
                {
                    break; // there already, with its own parents
                }
            }
        }

        return entries.Values.OrderBy(e => e.Entry.Path, TreeOrder.Instance).ToList();
    }

    /// <summary>A member name as a tree path: '/'-separated, relative, without '.' or '..' components.</summary>
    public static string Normalise(string name)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                throw Bad($"member '{name}' leaves the archive's directory ('..')");
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    public static LifeboatException Bad(string why) => new(ErrorCode.InvalidInput, $"«body» is not a usable tar archive: {why}", "send a tar archive (ustar or pax, uncompressed) as the request body");

    private static async Task<TarEntry?> Next(TarReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or ArgumentException or EndOfStreamException)
        {
            throw Bad(ex.Message);
        }
    }

    private static long MTimeNs(TarEntry member)
    {
        if (member is PaxTarEntry pax && pax.ExtendedAttributes.TryGetValue("mtime", out var text))
        {
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            var whole = dot < 0 ? text : text[..dot];
            var fraction = dot < 0 ? "" : text[(dot + 1)..];
            if (long.TryParse(whole, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
                && (fraction.Length == 0 || fraction.All(char.IsAsciiDigit)))
            {
                var nanos = fraction.Length == 0 ? 0 : long.Parse(fraction.PadRight(9, '0')[..9], CultureInfo.InvariantCulture);
                return seconds * 1_000_000_000L + (seconds < 0 && nanos > 0 ? -nanos : nanos);
            }
        }

        return (member.ModificationTime - DateTimeOffset.UnixEpoch).Ticks * 100;
    }

    /// <summary>Reads from a stream and writes what it read to another.</summary>
    private sealed class TeeStream(Stream source, Stream copy) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await source.ReadAsync(buffer, cancellationToken);
            await copy.WriteAsync(buffer[..n], cancellationToken);
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = source.Read(buffer, offset, count);
            copy.Write(buffer, offset, n);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
