namespace Lifeboat.Core.Tests;

public sealed class ChunkIdTests
{
    private static readonly byte[] Counting = Enumerable.Range(0, ChunkId.Size).Select(i => (byte)i).ToArray();

    private const string CountingHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    [Fact]
    public void An_id_prints_as_64_lower_case_hex_digits_of_its_bytes()
    {
        var id = new ChunkId(Counting);

        Assert.Equal(CountingHex, id.ToString());
        Assert.Equal("00010203", id.ToShortString());
        Assert.Equal(Counting, id.ToArray());
    }

    [Fact]
    public void Parsing_the_printed_form_gives_the_same_id_and_bytes()
    {
        var bytes = TestData.Random(ChunkId.Size, seed: 7);
        var id = new ChunkId(bytes);

        var parsed = ChunkId.Parse(id.ToString());

        Assert.Equal(id, parsed);
        Assert.Equal(bytes, parsed.ToArray());
        var written = new byte[ChunkId.Size];
        parsed.WriteTo(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void Upper_case_hex_parses_and_prints_in_lower_case()
    {
        var id = ChunkId.Parse(CountingHex.ToUpperInvariant());

        Assert.Equal(CountingHex, id.ToString());
    }

    [Fact]
    public void The_default_id_is_all_zeros()
    {
        Assert.Equal(new string('0', 64), default(ChunkId).ToString());
        Assert.Equal(default, ChunkId.Parse(new string('0', 64)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1")] // 63 digits
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0")] // 65 digits
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00")] // 33 bytes
    [InlineData("0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")]
    [InlineData(" 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")]
    [InlineData("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")]
    [InlineData("000102030405060708090a0b0c0d0e0f10111213141516171819-a1b1c1d1e1f")]
    public void Parse_rejects_text_that_is_not_64_hex_digits(string text)
    {
        Assert.False(ChunkId.TryParse(text, out var id));
        Assert.Equal(default, id);

        var error = Assert.Throws<FormatException>(() => ChunkId.Parse(text));
        Assert.Equal($"'{text}' is not a 64-digit hex id", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void An_id_must_be_made_of_exactly_32_bytes(int length)
    {
        var error = Assert.Throws<ArgumentException>(() => new ChunkId(new byte[length]));

        Assert.Equal($"an id is 32 bytes, got {length} (Parameter 'bytes')", error.Message);
    }

    [Fact]
    public void Ids_order_like_their_bytes_compared_unsigned_from_the_first()
    {
        var ids = Enumerable.Range(0, 500).Select(i => new ChunkId(TestData.Random(ChunkId.Size, seed: i))).ToList();
        // Ids that differ only in one late byte, and in the high bit of a word (an unsigned comparison must see 0x80 > 0x7f).
        ids.Add(ChunkId.Parse(new string('0', 63) + "1"));
        ids.Add(ChunkId.Parse(new string('0', 63) + "2"));
        ids.Add(ChunkId.Parse("7f" + new string('f', 62)));
        ids.Add(ChunkId.Parse("80" + new string('0', 62)));
        ids.Add(ChunkId.Parse(new string('0', 16) + "80" + new string('0', 46)));
        ids.Add(ChunkId.Parse(new string('0', 16) + "7f" + new string('f', 46)));

        var byId = ids.OrderBy(id => id).Select(id => id.ToString()).ToList();
        var byHex = ids.Select(id => id.ToString()).OrderBy(hex => hex, StringComparer.Ordinal).ToList();

        Assert.Equal(byHex, byId);
    }

    [Fact]
    public void Comparison_operators_agree_with_CompareTo()
    {
        var low = ChunkId.Parse("7f" + new string('f', 62));
        var high = ChunkId.Parse("80" + new string('0', 62));
        var highAgain = ChunkId.Parse("80" + new string('0', 62));

        Assert.True(low < high);
        Assert.True(low <= high);
        Assert.True(high > low);
        Assert.True(high >= low);
        Assert.True(high >= highAgain);
        Assert.True(high <= highAgain);
        Assert.False(high < highAgain);
        Assert.False(high > highAgain);
        Assert.Equal(0, high.CompareTo(highAgain));
        Assert.True(low.CompareTo(high) < 0);
        Assert.True(high.CompareTo(low) > 0);
    }

    [Fact]
    public void Ids_with_the_same_bytes_are_equal_and_hash_alike()
    {
        var a = new ChunkId(Counting);
        var b = ChunkId.Parse(CountingHex);

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(31)]
    public void Ids_that_differ_in_any_one_byte_are_not_equal(int index)
    {
        var other = (byte[])Counting.Clone();
        other[index] ^= 0x01;

        var a = new ChunkId(Counting);
        var b = new ChunkId(other);

        Assert.False(a == b);
        Assert.True(a != b);
        Assert.False(a.Equals(b));
        Assert.NotEqual(0, a.CompareTo(b));
    }

    [Fact]
    public void An_id_is_not_equal_to_an_object_of_another_type()
    {
        var id = new ChunkId(Counting);

        Assert.False(id.Equals(CountingHex));
        Assert.False(id.Equals(null));
    }

    [Fact]
    public void Ids_work_as_dictionary_keys()
    {
        var ids = Enumerable.Range(0, 1000).Select(i => new ChunkId(TestData.Random(ChunkId.Size, seed: i))).ToList();
        var set = new HashSet<ChunkId>(ids);

        Assert.Equal(1000, set.Count);
        Assert.All(ids, id => Assert.Contains(ChunkId.Parse(id.ToString()), set));
        Assert.DoesNotContain(ChunkId.Parse(new string('f', 64)), set);
    }
}
