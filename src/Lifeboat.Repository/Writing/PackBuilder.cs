using System.Buffers.Binary;
using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;

namespace Lifeboat.Repository.Writing;

/// <summary>A pack written to a spool file, ready to be saved on the target.</summary>
public sealed record FinishedPack(string SpoolPath, PackDescription Description);

/// <summary>
/// Groups chunks into frames and frames into a pack (repository format, section 7), streaming the pack to a spool
/// file so memory stays bounded whatever the pack size. Not thread-safe: one per worker.
/// </summary>
internal sealed class PackBuilder : IDisposable
{
    private readonly string _spoolDirectory;
    private readonly PackType _type;
    private readonly long _packSize;
    private readonly int _frameSize;
    private readonly ObjectCodec _codec;
    private readonly byte[] _frameBuffer;
    private readonly List<ChunkEntry> _frameChunks = [];
    private readonly List<FrameDescription> _frames = [];
    private byte[] _sealed = new byte[64 * 1024];
    private int _frameLength;
    private FileStream? _file;
    private string? _path;
    private IncrementalHash? _sha;
    private long _packLength;

    public PackBuilder(string spoolDirectory, PackType type, long packSize, int frameSize, ObjectCodec codec)
    {
        _spoolDirectory = spoolDirectory;
        _type = type;
        _packSize = packSize;
        _frameSize = frameSize;
        _codec = codec;
        _frameBuffer = new byte[frameSize * 2];
    }

    /// <summary>Whether the pack reached its target size and should be finished.</summary>
    public bool IsFull => _packLength >= _packSize;

    public bool IsEmpty => _frames.Count == 0 && _frameChunks.Count == 0;

    /// <summary>Adds a chunk (copied). The caller ensures a chunk is added once (the writer's pending set).</summary>
    public void Add(ChunkId id, ReadOnlySpan<byte> data)
    {
        if (data.Length >= _frameSize)
        {
            FlushFrame();
            WriteFrame(data, [new ChunkEntry(id, data.Length)]);
            return;
        }

        if (_frameLength + data.Length > _frameBuffer.Length)
        {
            FlushFrame();
        }

        data.CopyTo(_frameBuffer.AsSpan(_frameLength));
        _frameLength += data.Length;
        _frameChunks.Add(new ChunkEntry(id, data.Length));
        if (_frameLength >= _frameSize)
        {
            FlushFrame();
        }
    }

    /// <summary>Writes the open frame and the header; returns the pack, or null when nothing was added.</summary>
    public FinishedPack? Finish()
    {
        FlushFrame();
        if (_frames.Count == 0)
        {
            return null;
        }

        var header = _codec.Encode(PackCodec.WriteHeaderBody(_type, _frames), compress: true, SealKind.PackHeader);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        Append(header);
        Append(length);
        try
        {
            _file!.Flush();
            _file.Dispose();
        }
        catch (IOException ex)
        {
            throw StagingFailed(ex);
        }
        var packId = new ChunkId(_sha!.GetHashAndReset());
        var description = new PackDescription(packId, _type, header.Length, _frames.ToList());
        var finished = new FinishedPack(_path!, description);
        Reset();
        return finished;
    }

    /// <summary>Deletes the spool file of an unfinished pack.</summary>
    public void Dispose()
    {
        Abandon();
        Reset();
    }

    /// <summary>
    /// Removes the unfinished spool file at once: unlinked first, so that its space is free as soon as the handle
    /// closes even when closing fails (flushing the rest of a buffer onto a full disk throws again).
    /// </summary>
    private void Abandon()
    {
        if (_file is null)
        {
            return;
        }

        TryDelete(_path!);
        try
        {
            _file.Dispose();
        }
        catch (IOException)
        {
        }

        _file = null;
    }

    /// <summary>
    /// A write to the spool file failed: the partial pack is removed now (not by the next prune, an hour later), and a
    /// full disk is a <see cref="TargetErrorKind.NoSpace"/> naming the spool directory.
    /// </summary>
    private Exception StagingFailed(IOException ex)
    {
        var path = _path;
        Abandon();
        Reset();
        return TargetException.IsNoSpace(ex)
            ? new TargetException(TargetErrorKind.NoSpace, $"{RepositoryWriter.StagingFailurePrefix}{_spoolDirectory}: no space left on the device", inner: ex)
            : new IOException($"cannot write the staged pack {path}: {ex.Message}", ex);
    }

    private void FlushFrame()
    {
        if (_frameChunks.Count == 0)
        {
            return;
        }

        WriteFrame(_frameBuffer.AsSpan(0, _frameLength), _frameChunks.ToArray());
        _frameChunks.Clear();
        _frameLength = 0;
    }

    private void WriteFrame(ReadOnlySpan<byte> body, ChunkEntry[] chunks)
    {
        var n = _codec.Encode(body, compress: true, SealKind.Frame, ref _sealed, out _);
        Append(_sealed.AsSpan(0, n));
        _frames.Add(new FrameDescription(n, chunks));
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_file is null)
        {
            // A staged pack is the owner's only, like the objects it becomes (a local target sets their final mode).
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 20 };
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(_spoolDirectory);
            }
            else
            {
                Directory.CreateDirectory(_spoolDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            _path = Path.Combine(_spoolDirectory, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + ".tmp-pack");
            try
            {
                _file = new FileStream(_path, options);
            }
            catch (IOException ex) when (TargetException.IsNoSpace(ex))
            {
                throw new TargetException(TargetErrorKind.NoSpace, $"{RepositoryWriter.StagingFailurePrefix}{_spoolDirectory}: no space left on the device", inner: ex);
            }

            _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }

        try
        {
            _file.Write(bytes);
        }
        catch (IOException ex)
        {
            throw StagingFailed(ex);
        }
        _sha!.AppendData(bytes);
        _packLength += bytes.Length;
    }

    private void Reset()
    {
        _file = null;
        _path = null;
        _sha?.Dispose();
        _sha = null;
        _packLength = 0;
        _frames.Clear();
        _frameChunks.Clear();
        _frameLength = 0;
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
