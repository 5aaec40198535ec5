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
