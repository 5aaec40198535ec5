using System.Text;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Trees;

namespace Lifeboat.Repository.Tests;

public sealed class FormatTests
{
    [Fact]
    public void Uvarint_round_trips_every_magnitude()
    {
        Span<byte> buffer = stackalloc byte[Uvarint.MaxLength];
        foreach (var value in new ulong[] { 0, 1, 127, 128, 255, 300, 16383, 16384, uint.MaxValue, (ulong)long.MaxValue, ulong.MaxValue })
        {
            var n = Uvarint.Write(buffer, value);
            var pos = 0;
            Assert.True(Uvarint.TryRead(buffer[..n], ref pos, out var read));
            Assert.Equal(value, read);
            Assert.Equal(n, pos);
        }
    }

    [Fact]
    public void Uvarint_of_300_is_the_leb128_bytes_ac_02()
    {
        Span<byte> buffer = stackalloc byte[Uvarint.MaxLength];
        Assert.Equal(new byte[] { 0xAC, 0x02 }, buffer[..Uvarint.Write(buffer, 300)].ToArray());
    }

    private static List<FrameDescription> Frames() =>
    [
        new(1234, [new ChunkEntry(Id(1), 8192), new ChunkEntry(Id(2), 100)]),
        new(99, [new ChunkEntry(Id(3), 1 << 22)]),
    ];

    private static ChunkId Id(byte b)
    {
        var bytes = new byte[32];
        bytes[0] = b;
        bytes[31] = (byte)(b * 7);
        return new ChunkId(bytes);
    }

    [Fact]
    public void Pack_header_round_trips()
    {
        var body = PackCodec.WriteHeaderBody(PackType.Tree, Frames());
        Assert.Equal("LBPK"u8.ToArray(), body[..4]);
        var (type, frames) = PackCodec.ReadHeaderBody(body);
        Assert.Equal(PackType.Tree, type);
        Assert.Equal(2, frames.Count);
        Assert.Equal(Frames()[0].Chunks, frames[0].Chunks);
        Assert.Equal(99, frames[1].StoredLength);
    }

    [Fact]
    public void Index_round_trips_with_superseded_objects()
    {
        var pack = new PackDescription(Id(9), PackType.Data, 77, Frames());
        var body = PackCodec.WriteIndexBody([Id(5)], [pack]);
        var (superseded, packs) = PackCodec.ReadIndexBody(body);
        Assert.Equal([Id(5)], superseded);
        Assert.Single(packs);
        Assert.Equal(pack.PackId, packs[0].PackId);
        Assert.Equal(77, packs[0].SealedHeaderLength);
        Assert.Equal(pack.Size, packs[0].Size);
        Assert.Equal(1234 + 99 + 77 + 4, packs[0].Size);
    }

    [Fact]
    public void A_truncated_or_damaged_index_body_is_a_format_error_never_a_crash()
    {
        var body = PackCodec.WriteIndexBody([Id(5)], [new PackDescription(Id(9), PackType.Data, 77, Frames())]);
        for (var cut = 0; cut < body.Length; cut++)
        {
            Assert.Throws<FormatException>(() => PackCodec.ReadIndexBody(body.AsSpan(0, cut)));
        }

        var huge = body.ToArray();
        huge[5] = 0xFF; // superseded count varint becomes enormous
        Assert.Throws<FormatException>(() => PackCodec.ReadIndexBody(huge));
    }

    [Fact]
    public void Tree_entries_round_trip_through_json_lines()
    {
        var entry = new TreeEntry
        {
            Type = EntryType.File,
            Path = "uploads/2026/héllo wörld ✓.jpg",
            Mode = 0b110_100_100,
            Uid = 33,
            Gid = 33,
            Size = 12345,
            MTime = 1_763_820_000_123_456_789,
            CTime = 1_763_820_000_987_654_321,
            Inode = 42,
            Links = 2,
            Chunking = "cdc",
            Chunks = [Id(1), Id(2)],
        };
        var buffer = new ByteBuffer();
        TreeSerializer.Write(entry, buffer);
        var line = buffer.Span.ToArray();
        Assert.Equal((byte)'\n', line[^1]);
        var read = TreeSerializer.Read(line.AsSpan(0, line.Length - 1));
        Assert.Equal(entry.Path, read.Path);
        Assert.Equal(entry.Mode, read.Mode);
        Assert.Equal(entry.MTime, read.MTime);
        Assert.Equal(entry.Chunks, read.Chunks);
        Assert.Equal(2, read.Links);
        Assert.Contains("\"chunks\":[\"01", Encoding.UTF8.GetString(line), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"type\":\"file\",\"path\":\"../etc/passwd\",\"mtime\":0}")]
    [InlineData("{\"type\":\"file\",\"path\":\"/etc/passwd\",\"mtime\":0}")]
    [InlineData("{\"type\":\"file\",\"path\":\"a//b\",\"mtime\":0}")]
    [InlineData("{\"type\":\"device\",\"path\":\"a\",\"mtime\":0}")]
    [InlineData("{\"path\":\"a\"}")]
    [InlineData("not json")]
    public void Unsafe_or_malformed_tree_entries_are_rejected(string line)
    {
        Assert.Throws<FormatException>(() => TreeSerializer.Read(Encoding.UTF8.GetBytes(line)));
    }

    [Fact]
    public void Unknown_tree_fields_are_ignored()
    {
        var read = TreeSerializer.Read("{\"type\":\"dir\",\"path\":\"a\",\"future\":{\"x\":[1,2]},\"mtime\":5}"u8);
        Assert.Equal(EntryType.Directory, read.Type);
        Assert.Equal(5, read.MTime);
    }

    [Fact]
    public void A_path_that_is_not_utf8_is_written_readable_with_its_bytes_beside_it_and_read_back_exactly()
    {
        var raw = RawPath.FromBytes([0x64, 0xfe, (byte)'/', 0x66, 0xff, 0x6f]);
        var entry = new TreeEntry { Type = EntryType.File, Path = raw, HardlinkOf = RawPath.FromBytes([0x61, 0x80]), MTime = 1 };
        var link = new TreeEntry { Type = EntryType.Symlink, Path = "l", Target = RawPath.FromBytes([0xc3]), MTime = 1 };
        var buffer = new ByteBuffer();
        TreeSerializer.Write(entry, buffer);
        TreeSerializer.Write(link, buffer);
        var lines = Encoding.UTF8.GetString(buffer.Span).Split('\n');
        Assert.Contains("\"path\":\"d\\\\xfe/f\\\\xffo\",\"pathBytes\":\"ZP4vZv9v\"", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"hardlinkOf\":\"a\\\\x80\",\"hardlinkOfBytes\":\"YYA=\"", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"target\":\"\\\\xc3\",\"targetBytes\":\"ww==\"", lines[1], StringComparison.Ordinal);
        var read = TreeSerializer.Read(Encoding.UTF8.GetBytes(lines[0]));
        Assert.Equal(raw, read.Path);
        Assert.Equal(new byte[] { 0x64, 0xfe, (byte)'/', 0x66, 0xff, 0x6f }, RawPath.ToBytes(read.Path));
        Assert.Equal(entry.HardlinkOf, read.HardlinkOf);
        Assert.Equal(link.Target, TreeSerializer.Read(Encoding.UTF8.GetBytes(lines[1])).Target);
    }

    [Fact]
    public void A_utf8_path_is_written_as_before_without_its_bytes()
    {
        var buffer = new ByteBuffer();
        TreeSerializer.Write(new TreeEntry { Type = EntryType.File, Path = "ünï/✓", MTime = 1 }, buffer);
        Assert.Equal("{\"type\":\"file\",\"path\":\"ünï/✓\",\"mode\":0,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":1}\n", Encoding.UTF8.GetString(buffer.Span));
    }

    [Fact]
    public void Path_bytes_that_name_an_unsafe_path_are_rejected()
    {
        // "../x" in base64: the bytes decide, not the readable form.
        Assert.Throws<FormatException>(() => TreeSerializer.Read("{\"type\":\"file\",\"path\":\"x\",\"pathBytes\":\"Li4veA==\",\"mtime\":0}"u8));
    }

    [Fact]
    public void A_fifo_and_a_device_are_file_entries_with_their_special_type_and_device_number()
    {
        var buffer = new ByteBuffer();
        TreeSerializer.Write(new TreeEntry { Type = EntryType.File, Path = "null", Special = TreeEntry.SpecialCharDevice, RdevMajor = 1, RdevMinor = 3, Mode = 438, MTime = 1 }, buffer);
        TreeSerializer.Write(new TreeEntry { Type = EntryType.File, Path = "queue", Special = TreeEntry.SpecialFifo, Mode = 384, MTime = 1 }, buffer);
        var lines = Encoding.UTF8.GetString(buffer.Span).Split('\n');
        Assert.Equal("{\"type\":\"file\",\"path\":\"null\",\"mode\":438,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":1,\"special\":\"chardev\",\"rdevMajor\":1,\"rdevMinor\":3}", lines[0]);
        Assert.Equal("{\"type\":\"file\",\"path\":\"queue\",\"mode\":384,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":1,\"special\":\"fifo\"}", lines[1]);
        var device = TreeSerializer.Read(Encoding.UTF8.GetBytes(lines[0]));
        Assert.Equal((EntryType.File, "chardev", 1L, 3L), (device.Type, device.Special, device.RdevMajor, device.RdevMinor));
    }
}
