namespace Lifeboat.Core.Tests;

public sealed class LsnTests
{
    private const long SixteenMiB = 16L * 1024 * 1024;

    [Fact]
    public void An_LSN_as_PostgreSQL_shows_it_is_parsed_into_high_and_low_words()
    {
        Assert.Equal(0x16B3748UL, Lsn.Parse("0/16B3748").Value);
        Assert.Equal(0x1A_0000_0000UL, Lsn.Parse("1A/0").Value);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, Lsn.Parse("FFFFFFFF/FFFFFFFF").Value);
    }

    [Fact]
    public void Lower_case_hex_digits_are_accepted_as_PostgreSQL_accepts_them()
    {
        Assert.Equal(Lsn.Parse("0/16B3748"), Lsn.Parse("0/16b3748"));
    }

    [Theory]
    [InlineData("0/0")]
    [InlineData("0/16B3748")]
    [InlineData("1A/0")]
    [InlineData("1/FFFFFFFF")]
    [InlineData("FFFFFFFF/FFFFFFFF")]
    public void Formatting_a_parsed_LSN_gives_back_the_same_text(string text)
    {
        Assert.Equal(text, Lsn.Parse(text).ToString());
    }

    [Fact]
    public void Formatting_writes_upper_case_hex_without_leading_zeros()
    {
        Assert.Equal("2B/A0", new Lsn(0x2B_0000_00A0).ToString());
        Assert.Equal("0/0", Lsn.Zero.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("16B3748")]
    [InlineData("0/")]
    [InlineData("/16B3748")]
    [InlineData("0/16B3748/1")]
    [InlineData("G/0")]
    [InlineData("0/-1")]
    [InlineData(" 0/1")]
    [InlineData("100000000/0")]
    public void Text_that_is_not_an_LSN_is_rejected(string text)
    {
        Assert.False(Lsn.TryParse(text, out _));
    }

    [Fact]
    public void Null_is_not_an_LSN()
    {
        Assert.False(Lsn.TryParse(null, out var lsn));
        Assert.Equal(Lsn.Zero, lsn);
    }

    [Fact]
    public void Parsing_an_invalid_LSN_names_it_and_shows_an_example()
    {
        var ex = Assert.Throws<LifeboatException>(() => Lsn.Parse("16B3748"));

        Assert.Equal("'16B3748' is not an LSN", ex.Message);
        Assert.Equal("write an LSN as PostgreSQL shows it, for example 0/16B3748", ex.Hint);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void LSNs_order_by_the_high_word_first()
    {
        var a = Lsn.Parse("0/FFFFFFFF");
        var b = Lsn.Parse("1/0");
        var c = Lsn.Parse("1/1");
        var alsoB = Lsn.Parse("1/0");

        Assert.True(a < b);
        Assert.True(b < c);
        Assert.True(c > a);
        Assert.True(b <= alsoB);
        Assert.True(b >= alsoB);
        Assert.False(b < alsoB);
        Assert.True(a.CompareTo(b) < 0);
        Assert.Equal(0, b.CompareTo(alsoB));
        Assert.Equal([a, b, c], new[] { c, a, b }.Order().ToArray());
    }

    [Theory]
    [InlineData("0/0", 0UL)]
    [InlineData("0/FFFFFF", 0UL)]
    [InlineData("0/1000000", 1UL)]
    [InlineData("0/16B3748", 1UL)]
    [InlineData("0/FFFFFFFF", 255UL)]
    [InlineData("1/0", 256UL)]
    [InlineData("1A/5000028", 0x1A * 256UL + 5)]
    public void The_segment_of_an_LSN_is_its_position_divided_by_the_segment_size(string text, ulong segment)
    {
        Assert.Equal(segment, Lsn.Parse(text).Segment(SixteenMiB));
    }

    [Fact]
    public void The_segment_of_an_LSN_follows_the_segment_size()
    {
        var lsn = Lsn.Parse("1/40000000");

        Assert.Equal(5UL, lsn.Segment(1L << 30));
        Assert.Equal(0x140UL, lsn.Segment(SixteenMiB));
        Assert.Equal(0x1400UL, lsn.Segment(1L << 20));
    }
}
