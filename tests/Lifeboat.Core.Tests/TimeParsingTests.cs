namespace Lifeboat.Core.Tests;

public sealed class TimeParsingTests
{
    private static DateTimeOffset Parse(string text) => TimeParsing.Parse(text, "--target-time");

    [Theory]
    [InlineData("2026-11-22T14:03:00+01:00")]
    [InlineData("2026-11-22 14:03:00+01:00")]
    [InlineData("2026-11-22 14:03:00+01")]
    [InlineData("2026-11-22T14:03:00+01")]
    [InlineData("  2026-11-22 14:03:00+01  ")]
    public void A_time_with_an_offset_is_parsed_with_that_offset(string text)
    {
        var time = Parse(text);

        Assert.Equal(new DateTimeOffset(2026, 11, 22, 14, 3, 0, TimeSpan.FromHours(1)), time);
        Assert.Equal(TimeSpan.FromHours(1), time.Offset);
    }

    [Theory]
    [InlineData("2026-11-22T13:03:00Z")]
    [InlineData("2026-11-22 13:03:00Z")]
    [InlineData("2026-11-22 13:03:00+00")]
    [InlineData("2026-11-22T08:33:00-04:30")]
    public void Times_in_other_offsets_name_the_same_instant(string text)
    {
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 13, 3, 0, TimeSpan.Zero), Parse(text));
    }

    [Theory]
    [InlineData("2026-11-22 14:03:00.5+01", 5_000_000)]
    [InlineData("2026-11-22 14:03:00.123456+01", 1_234_560)]
    [InlineData("2026-11-22T14:03:00.1234567+01:00", 1_234_567)]
    [InlineData("2026-11-22T14:03:00.000001+01:00", 10)]
    public void Fractional_seconds_are_kept_to_the_tick(string text, long ticks)
    {
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 14, 3, 0, TimeSpan.FromHours(1)).AddTicks(ticks), Parse(text));
    }

    [Theory]
    [InlineData("2026-11-22 14:03:00")]
    [InlineData("2026-11-22T14:03:00")]
    [InlineData("2026-11-22T14:03:00.123")]
    [InlineData("2026-11-22")]
    [InlineData("14:03:00+01")]
    [InlineData("yesterday")]
    [InlineData("22/11/2026 14:03:00+01")]
    [InlineData("2026-11-22 14:03+01")]
    [InlineData("2026-13-22 14:03:00+01")]
    [InlineData("")]
    [InlineData("   ")]
    public void A_time_without_an_offset_or_in_another_form_is_rejected(string text)
    {
        Assert.False(TimeParsing.TryParse(text, out _));
    }

    [Fact]
    public void Null_is_not_a_time()
    {
        Assert.False(TimeParsing.TryParse(null, out _));
    }

    [Fact]
    public void Parsing_a_time_without_an_offset_names_the_option_and_shows_both_accepted_forms()
    {
        var ex = Assert.Throws<LifeboatException>(() => Parse("2026-11-22 14:03:00"));

        Assert.Equal("--target-time '2026-11-22 14:03:00' is not a time with an offset", ex.Message);
        Assert.Equal("write for example 2026-11-22T14:03:00+00:00 or '2026-11-22 14:03:00+01'", ex.Hint);
        Assert.Equal(ErrorCode.InvalidInput, ex.Code);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void The_PostgreSQL_form_is_UTC_with_microseconds_and_a_bare_hour_offset()
    {
        var time = new DateTimeOffset(2026, 11, 22, 14, 3, 0, TimeSpan.FromHours(1)).AddTicks(1_234_567);

        Assert.Equal("2026-11-22 13:03:00.123456+00", TimeParsing.ToPostgres(time));
        Assert.Equal("2026-11-22 13:03:00.000000+00", TimeParsing.ToPostgres(new DateTimeOffset(2026, 11, 22, 13, 3, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void The_PostgreSQL_form_parses_back_to_the_same_instant_to_the_microsecond()
    {
        var time = new DateTimeOffset(2026, 11, 22, 23, 59, 59, TimeSpan.FromHours(-8)).AddTicks(9_876_540);

        Assert.Equal(time, Parse(TimeParsing.ToPostgres(time)));
    }
}
