using System.Runtime.InteropServices;
using Lifeboat.Core;

namespace Lifeboat.Repository.Compression;

/// <summary>
/// zstd through the system's libzstd (Debian's libzstd1). Chosen over the managed ZstdSharp port by measurement:
/// see docs/performance.md and bench/Lifeboat.Benchmarks/CompressionBenchmarks.cs.
/// </summary>
internal static partial class ZstdNative
{
    private const string Library = "libzstd.so.1";

    [LibraryImport(Library, EntryPoint = "ZSTD_createCCtx")]
    internal static partial nint CreateCCtx();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCCtx")]
    internal static partial nuint FreeCCtx(nint cctx);

    [LibraryImport(Library, EntryPoint = "ZSTD_createDCtx")]
    internal static partial nint CreateDCtx();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDCtx")]
    internal static partial nuint FreeDCtx(nint dctx);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressCCtx")]
    internal static unsafe partial nuint CompressCCtx(nint cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize, int level);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressDCtx")]
    internal static unsafe partial nuint DecompressDCtx(nint dctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressStream")]
    internal static unsafe partial nuint DecompressStream(nint dctx, ZstdBuffer* output, ZstdBuffer* input);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressBound")]
    internal static partial nuint CompressBound(nuint srcSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_getFrameContentSize")]
    internal static unsafe partial ulong GetFrameContentSize(byte* src, nuint srcSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_isError")]
    internal static partial uint IsError(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorName")]
    internal static partial nint GetErrorName(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_versionNumber")]
    internal static partial uint VersionNumber();

    internal static string ErrorName(nuint code) => Marshal.PtrToStringUTF8(GetErrorName(code)) ?? "unknown zstd error";
}

/// <summary>ZSTD_inBuffer and ZSTD_outBuffer (the same layout): a buffer, its size, how far it is used.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ZstdBuffer
{
    public byte* Data;
    public nuint Size;
    public nuint Pos;
}

/// <summary>
/// Decompresses a zstd stream (one or more frames, as the zstd tool writes them) as it is read, through libzstd's
/// ZSTD_decompressStream: a bounded buffer of compressed input at a time, never the whole. Does not own the inner stream.
/// </summary>
public sealed class ZstdDecompressionStream : Stream
{
    private readonly Stream _inner;
    private readonly byte[] _input = new byte[128 * 1024];
    private int _inputLength;
    private int _inputPos;
    private bool _innerEnded;
    private bool _frameOpen;
    private nint _dctx;

    public ZstdDecompressionStream(Stream inner)
    {
        _inner = inner;
        try
        {
            _dctx = ZstdNative.CreateDCtx();
        }
        catch (DllNotFoundException ex)
        {
            throw new LifeboatException(ErrorCode.Failed, "the zstd library (libzstd.so.1) is not installed", "install it: apt-get install libzstd1", ex);
        }

        if (_dctx == 0)
        {
            throw new OutOfMemoryException("cannot create a zstd context");
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_dctx == 0, this);
        if (buffer.Length == 0)
        {
            return 0;
        }

        while (true)
        {
            if (_inputPos == _inputLength && !_innerEnded)
            {
                _inputLength = await _inner.ReadAsync(_input, cancellationToken);
                _inputPos = 0;
                _innerEnded = _inputLength == 0;
            }

            if (_inputPos == _inputLength && _innerEnded)
            {
                if (_frameOpen)
                {
                    throw new InvalidDataException("the zstd stream ends in the middle of a frame (truncated)");
                }

                return 0;
            }

            var produced = Step(buffer.Span);
            if (produced > 0)
            {
                return produced;
            }
        }
    }

    private unsafe int Step(Span<byte> destination)
    {
        fixed (byte* src = _input)
        fixed (byte* dst = destination)
        {
            var input = new ZstdBuffer { Data = src, Size = (nuint)_inputLength, Pos = (nuint)_inputPos };
            var output = new ZstdBuffer { Data = dst, Size = (nuint)destination.Length, Pos = 0 };
            var result = ZstdNative.DecompressStream(_dctx, &output, &input);
            if (ZstdNative.IsError(result) != 0)
            {
                throw new InvalidDataException("the zstd stream does not decompress: " + ZstdNative.ErrorName(result));
            }

            _inputPos = (int)input.Pos;
            _frameOpen = result != 0;
            return (int)output.Pos;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_dctx != 0)
        {
            ZstdNative.FreeDCtx(_dctx);
            _dctx = 0;
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// A zstd compression and decompression context. Not thread-safe: one per worker.
/// </summary>
public sealed class ZstdCodec : IDisposable
{
    private const ulong ContentSizeUnknown = ulong.MaxValue;
    private const ulong ContentSizeError = ulong.MaxValue - 1;
    private nint _cctx;
    private nint _dctx;

    public ZstdCodec()
    {
        try
        {
            _cctx = ZstdNative.CreateCCtx();
            _dctx = ZstdNative.CreateDCtx();
        }
        catch (DllNotFoundException ex)
        {
            throw new LifeboatException(ErrorCode.Failed, "the zstd library (libzstd.so.1) is not installed", "install it: apt-get install libzstd1", ex);
        }

        if (_cctx == 0 || _dctx == 0)
        {
            throw new OutOfMemoryException("cannot create a zstd context");
        }
    }

    /// <summary>The libzstd version, for reports (e.g. 10504 for 1.5.4).</summary>
    public static uint LibraryVersion => ZstdNative.VersionNumber();

    public static int MaxCompressedLength(int length) => checked((int)ZstdNative.CompressBound((nuint)length));

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/>; returns the compressed length.</summary>
    public unsafe int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        ObjectDisposedException.ThrowIf(_cctx == 0, this);
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            var result = ZstdNative.CompressCCtx(_cctx, dst, (nuint)destination.Length, src, (nuint)source.Length, level);
            if (ZstdNative.IsError(result) != 0)
            {
                throw new InvalidOperationException("zstd compression failed: " + ZstdNative.ErrorName(result));
            }

            return (int)result;
        }
    }

    /// <summary>The content size recorded in a zstd frame header, or -1 when absent or invalid.</summary>
    public static unsafe long GetContentSize(ReadOnlySpan<byte> frame)
    {
        fixed (byte* src = frame)
        {
            var size = ZstdNative.GetFrameContentSize(src, (nuint)frame.Length);
            return size is ContentSizeUnknown or ContentSizeError || size > int.MaxValue ? -1 : (long)size;
        }
    }

    /// <summary>
    /// Decompresses a whole frame into <paramref name="destination"/>, which must be exactly the content size.
    /// Returns false when the data is not valid zstd or has another size (the caller reports damage).
    /// </summary>
    public unsafe bool TryDecompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_dctx == 0, this);
        fixed (byte* src = source)
        fixed (byte* dst = destination)
        {
            var result = ZstdNative.DecompressDCtx(_dctx, dst, (nuint)destination.Length, src, (nuint)source.Length);
            return ZstdNative.IsError(result) == 0 && (int)result == destination.Length;
        }
    }

    ~ZstdCodec() => Free();

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_cctx != 0)
        {
            ZstdNative.FreeCCtx(_cctx);
            _cctx = 0;
        }

        if (_dctx != 0)
        {
            ZstdNative.FreeDCtx(_dctx);
            _dctx = 0;
        }
    }
}
