using System.Formats.Tar;
using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

/// <summary>
/// Writes a backup's tree as a POSIX (pax) tar to a stream, entry by entry in tree order: directories, files (their
/// chunks read one at a time and each verified against its id by <see cref="ChunkReader"/>), symlinks and hard links,
/// with modes, owners (ids and names) and modification times. Memory stays bounded whatever the backup's size: one
/// chunk and a few cached frames at a time. A damaged chunk raises a <see cref="DamageException"/> in the middle of
/// the stream, so the reader gets a truncated archive, never silently wrong data.
/// </summary>
public sealed class TreeTar
{
    private readonly Repo _repo;
    private readonly ChunkIndex _index;

    public TreeTar(Repo repository, ChunkIndex index)
    {
        _repo = repository;
        _index = index;
    }

    /// <summary>Bytes of file contents written so far.</summary>
    public long Bytes { get; private set; }

    public long Files { get; private set; }

    /// <summary>Writes the tree of <paramref name="manifest"/>; <paramref name="include"/> picks entries (null: all).</summary>
    public async Task WriteAsync(Manifest manifest, Stream output, Func<TreeEntry, bool>? include, CancellationToken cancellationToken)
    {
        using var treeReader = new ChunkReader(_repo, _index);
        using var dataReader = new ChunkReader(_repo, _index, cachedFrames: 16);
        await using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await foreach (var entry in TreeReader.ReadAsync(treeReader, manifest, cancellationToken))
        {
            if (include?.Invoke(entry) == false)
            {
                continue;
            }

            // Names that are not UTF-8 go into the archive in their escaped form (\xff): System.Formats.Tar writes
            // names as UTF-8 only (pax's hdrcharset=BINARY is not available).
            var path = RawPath.Display(entry.Path);
            var tarEntry = entry.Type switch
            {
                EntryType.Directory => New(TarEntryType.Directory, path.Length == 0 ? "./" : path + "/", entry), // the root as "./": its mode and time
                EntryType.Symlink => New(TarEntryType.SymbolicLink, path, entry, RawPath.Display(entry.Target ?? "")),
                _ when entry.Special == TreeEntry.SpecialFifo => New(TarEntryType.Fifo, path, entry),
                _ when entry.Special == TreeEntry.SpecialCharDevice => New(TarEntryType.CharacterDevice, path, entry),
                _ when entry.Special == TreeEntry.SpecialBlockDevice => New(TarEntryType.BlockDevice, path, entry),
                _ when entry.Special is not null => null,
                _ when entry.HardlinkOf is { } first => New(TarEntryType.HardLink, path, entry, RawPath.Display(first)),
                _ => New(TarEntryType.RegularFile, path, entry),
            };
            if (tarEntry is null)
            {
                continue;
            }

            if (tarEntry.EntryType is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
            {
                tarEntry.DeviceMajor = (int)entry.RdevMajor;
                tarEntry.DeviceMinor = (int)entry.RdevMinor;
            }

            if (tarEntry.EntryType == TarEntryType.RegularFile)
            {
                tarEntry.DataStream = new ChunkStream(dataReader, manifest, entry);
                Files++;
            }

            await tar.WriteEntryAsync(tarEntry, cancellationToken);
            if (tarEntry.EntryType == TarEntryType.RegularFile)
            {
                Bytes += entry.Size;
            }
        }
    }

    /// <summary>Writes one file of the tree as it is (no archive around it); returns its length.</summary>
    public async Task<long> WriteFileAsync(Manifest manifest, string path, Stream output, CancellationToken cancellationToken)
    {
        using var treeReader = new ChunkReader(_repo, _index);
        using var dataReader = new ChunkReader(_repo, _index, cachedFrames: 16);
        await foreach (var entry in TreeReader.ReadAsync(treeReader, manifest, cancellationToken))
        {
            if (entry.Path == path && entry.Type == EntryType.File)
            {
                await using var data = new ChunkStream(dataReader, manifest, entry);
                await data.CopyToAsync(output, 256 * 1024, cancellationToken);
                Files = 1;
                Bytes = entry.Size;
                return entry.Size;
            }
        }

        throw new DamageException($"backup {manifest.Id} has no file {path} in its tree", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
    }

    private static PaxTarEntry New(TarEntryType type, string name, TreeEntry entry, string? link = null)
    {
        // Nanosecond modification times as pax keeps them (ModificationTime alone has 100 ns ticks).
        var seconds = Math.DivRem(entry.MTime, 1_000_000_000L, out var nanos);
        if (nanos < 0)
        {
            seconds--;
            nanos += 1_000_000_000L;
        }

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["mtime"] = string.Create(CultureInfo.InvariantCulture, $"{seconds}.{nanos:D9}"),
        };
        var tarEntry = new PaxTarEntry(type, name, attributes)
        {
            Mode = (UnixFileMode)(entry.Mode & 0xFFF),
            Uid = (int)entry.Uid,
            Gid = (int)entry.Gid,
            UserName = entry.User ?? "",
            GroupName = entry.Group ?? "",
            ModificationTime = DateTimeOffset.FromUnixTimeMilliseconds(0).AddTicks(entry.MTime / 100),
        };
        if (link is not null)
        {
            tarEntry.LinkName = link;
        }

        return tarEntry;
    }

    /// <summary>
    /// A file's contents from its chunks, read on demand and verified. It reports its length and position (what
    /// TarWriter needs to write the header first) but cannot seek.
    /// </summary>
    private sealed class ChunkStream(ChunkReader reader, Manifest manifest, TreeEntry entry) : Stream
    {
        private int _next;
        private ReadOnlyMemory<byte> _current;
        private long _position;

        public override bool CanRead => true;

        // TarWriter asks for a seekable data stream to learn its length before it writes the header; Seek is never called.
        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => entry.Size;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.Length == 0 || _position >= entry.Size)
            {
                return 0;
            }

            var chunks = entry.Chunks ?? [];
            while (_current.IsEmpty)
            {
                if (_next >= chunks.Count)
                {
                    throw new DamageException($"{entry.Path} in backup {manifest.Id} has {_position} bytes in its chunks, its entry says {entry.Size}", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
                }

                try
                {
                    _current = await reader.ReadAsync(chunks[_next++], cancellationToken);
                }
                catch (DamageException ex)
                {
                    throw new DamageException($"cannot read {entry.Path} of backup {manifest.Id}: {ex.Message}", ex.DamagedObjects, [manifest.Id], ex.Hint, ex);
                }
            }

            var n = (int)Math.Min(Math.Min(buffer.Length, _current.Length), entry.Size - _position);
            _current[..n].CopyTo(buffer);
            _current = _current[n..];
            _position += n;
            if (_position == entry.Size && (!_current.IsEmpty || _next < chunks.Count))
            {
                throw new DamageException($"{entry.Path} in backup {manifest.Id} has more bytes in its chunks than its entry's {entry.Size}", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
            }

            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
