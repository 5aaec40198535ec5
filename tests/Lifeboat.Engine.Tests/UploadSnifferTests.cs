using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Lifeboat.Engine.Operations;
using Lifeboat.Repository.Compression;

namespace Lifeboat.Engine.Tests;

/// <summary>An upload's format told from its first bytes, and the whole content given back after looking at them.</summary>
public sealed class UploadSnifferTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Script = "--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.18\n\nSET statement_timeout = 0;\nCREATE TABLE t (id int);\n";

    [Theory]
    [InlineData(Script, "plain")]
    [InlineData("\uFEFF/* a comment\n spanning lines */\n  create table t (id int);", "plain")]
    [InlineData("\\restrict abc\nSET x = 1;", "plain")]
    [InlineData("-- only a comment\n", null)]
    [InlineData("shopping list: eggs\n", null)]
    [InlineData("", null)]
    public async Task Text_is_a_plain_script_only_when_its_first_statement_is_sql(string text, string? kind)
    {
        var sniffed = await UploadSniffer.SniffAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), Ct);
        Assert.Equal(kind, sniffed.Kind);
        Assert.Equal(text, Encoding.UTF8.GetString(await ReadAllAsync(sniffed.Content)));
    }

    [Theory]
    [InlineData(TarEntryFormat.V7)]
    [InlineData(TarEntryFormat.Ustar)]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    public async Task Every_tar_flavour_is_a_tar_also_gzip_compressed(TarEntryFormat format)
    {
        var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, format, leaveOpen: true))
        {
            var entry = format switch
            {
                TarEntryFormat.V7 => (TarEntry)new V7TarEntry(TarEntryType.V7RegularFile, "toc.dat"),
                TarEntryFormat.Ustar => new UstarTarEntry(TarEntryType.RegularFile, "toc.dat"),
                TarEntryFormat.Pax => new PaxTarEntry(TarEntryType.RegularFile, "toc.dat"),
                _ => new GnuTarEntry(TarEntryType.RegularFile, "toc.dat"),
            };
            entry.DataStream = new MemoryStream(new byte[700]);
            await writer.WriteEntryAsync(entry, Ct);
        }

        var bytes = tar.ToArray();
        var plain = await UploadSniffer.SniffAsync(new MemoryStream(bytes), Ct);
        Assert.Equal("tar", plain.Kind);
        Assert.Null(plain.Compression);

        var gz = new MemoryStream();
        await using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(bytes, Ct);
        }

        var sniffed = await UploadSniffer.SniffAsync(new MemoryStream(gz.ToArray()), Ct);
        Assert.Equal(("tar", "gzip", "a tar archive (gzip-compressed)"), (sniffed.Kind, sniffed.Compression, sniffed.Found));
        Assert.Equal(bytes, await ReadAllAsync(sniffed.Content));
    }

    [Fact]
    public async Task A_zstd_stream_of_several_frames_decompresses_whole_and_a_cut_one_fails()
    {
        // A script longer than the part looked at, in two frames (as `zstd` writes a concatenation).
        var text = Script + string.Concat(Enumerable.Range(0, 5000).Select(i => $"INSERT INTO t VALUES ({i});\n"));
        var bytes = Encoding.UTF8.GetBytes(text);
        using var codec = new ZstdCodec();
        var half = bytes.Length / 2;
        var compressed = Frame(codec, bytes.AsSpan(0, half)).Concat(Frame(codec, bytes.AsSpan(half))).ToArray();

        var sniffed = await UploadSniffer.SniffAsync(new MemoryStream(compressed), Ct);
        Assert.Equal(("plain", "zstd"), (sniffed.Kind, sniffed.Compression));
        Assert.Equal(bytes, await ReadAllAsync(sniffed.Content));

        var cut = await UploadSniffer.SniffAsync(new MemoryStream(compressed[..(compressed.Length - 10)]), Ct);
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(cut.Content));
    }

    [Theory]
    [InlineData(new byte[] { 0x50, 0x47, 0x44, 0x4D, 0x50, 1, 14, 0 }, "custom", "a pg_dump custom-format archive")]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0 }, null, "binary data starting 89 50 4e 47 0d 0a 1a 0a")]
    [InlineData(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 1 }, null, "an xz-compressed file (only gzip and zstd are decompressed)")]
    [InlineData(new byte[] { 0x1F, 0x8B, 0xFF, 0xFF }, null, "a gzip stream that does not decompress")]
    public async Task Binary_content_is_named_for_what_it_is(byte[] head, string? kind, string found)
    {
        var sniffed = await UploadSniffer.SniffAsync(new MemoryStream(head), Ct);
        Assert.Equal(kind, sniffed.Kind);
        Assert.StartsWith(found, sniffed.Found, StringComparison.Ordinal);
    }

    private static byte[] Frame(ZstdCodec codec, ReadOnlySpan<byte> data)
    {
        var buffer = new byte[ZstdCodec.MaxCompressedLength(data.Length)];
        return buffer[..codec.Compress(data, buffer, 3)];
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        var all = new MemoryStream();
        await stream.CopyToAsync(all, 1000, Ct);
        return all.ToArray();
    }
}
