namespace Lifeboat.Core.Tests;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("33554432", 33554432L)]
    [InlineData("7B", 7L)]
    [InlineData(" 7 B ", 7L)]
    [InlineData("32MiB", 32L << 20)]
    [InlineData("32 MiB", 32L << 20)]
    [InlineData("32mib", 32L << 20)]
    [InlineData("32MB", 32L << 20)]
    [InlineData("32M", 32L << 20)]
    [InlineData("1.5GiB", 1610612736L)]
    [InlineData("1.5G", 1610612736L)]
    [InlineData("64k", 65536L)]
    [InlineData("64K", 65536L)]
    [InlineData("64KiB", 65536L)]
    [InlineData("64kb", 65536L)]
    [InlineData("0.5KiB", 512L)]
    [InlineData("2TiB", 2L << 40)]
    [InlineData("2T", 2L << 40)]
    [InlineData("4194304TiB", 1L << 62)]
    public void Parse_reads_plain_bytes_and_IEC_units(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
        Assert.Equal(expected, ByteSize.Parse(text, "pack size"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("MiB")]
    [InlineData("12 XB")]
    [InlineData("12 MiB extra")]
    [InlineData("12 PiB")]
    [InlineData("-1")]
    [InlineData("-1MiB")]
    [InlineData("1.2.3")]
    [InlineData(".")]
    [InlineData("1e6")]
    [InlineData("1,5GiB")]
    [InlineData("0x10")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    // 2^63 bytes and more do not fit in a long.
    [InlineData("8388608TiB")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999999TiB")]
    public void Parse_rejects_text_that_is_not_a_size(string? text)
    {
        Assert.False(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(0, bytes);
    }

    [Fact]
    public void A_size_that_does_not_parse_is_a_usage_error_naming_the_setting_and_the_text()
    {
        var error = Assert.Throws<LifeboatException>(() => ByteSize.Parse("12 XB", "pack size"));

        Assert.Equal("pack size '12 XB' is not a size", error.Message);
        Assert.Equal("write a number of bytes or a size with an IEC unit, for example 32MiB", error.Hint);
        Assert.Equal(ErrorCode.InvalidInput, error.Code);
        Assert.Equal(2, error.ExitCode);
    }

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1L, "1 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1024L, "1.00 KiB")]
    [InlineData(1536L, "1.50 KiB")]
    [InlineData(10L * 1024, "10.0 KiB")]
    [InlineData(100L * 1024, "100 KiB")]
    [InlineData(32L << 20, "32.0 MiB")]
    [InlineData(1610612736L, "1.50 GiB")]
    [InlineData(1L << 40, "1.00 TiB")]
    [InlineData(1L << 50, "1.00 PiB")]
    [InlineData(long.MaxValue, "8192 PiB")]
    [InlineData(-1L, "-1 B")]
    [InlineData(-2048L, "-2.00 KiB")]
    public void Format_uses_IEC_units_with_three_significant_digits(long bytes, string expected)
    {
        Assert.Equal(expected, ByteSize.Format(bytes));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1000L)]
    [InlineData(1L << 20)]
    [InlineData(32L << 20)]
    [InlineData(3L << 30)]
    [InlineData(1L << 40)]
    public void A_formatted_whole_size_parses_back_to_the_same_number_of_bytes(long bytes)
    {
        Assert.Equal(bytes, ByteSize.Parse(ByteSize.Format(bytes), "size"));
    }
}
