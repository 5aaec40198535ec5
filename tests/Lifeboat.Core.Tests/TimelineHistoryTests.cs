namespace Lifeboat.Core.Tests;

public sealed class TimelineHistoryTests
{
    // 00000003.history as PostgreSQL's writeTimeLineHistory writes it: the parent's lines, a blank line, the new line.
    private const string HistoryOfTimeline3 = "1\t0/5000098\tno recovery target specified\n\n2\t0/7000000\tbefore 2024-01-01 00:00:00+00\n";

    private static readonly List<TimelineSpan> Timeline3 = TimelineHistory.Parse(3, HistoryOfTimeline3);

    [Fact]
    public void A_history_lists_each_ancestor_from_the_previous_switch_point_to_its_own_and_then_the_timeline_itself()
    {
        Assert.Equal(
            [
                new TimelineSpan(1, Lsn.Zero, Lsn.Parse("0/5000098")),
                new TimelineSpan(2, Lsn.Parse("0/5000098"), Lsn.Parse("0/7000000")),
                new TimelineSpan(3, Lsn.Parse("0/7000000"), Lsn.Zero),
            ],
            Timeline3);
    }

    [Fact]
    public void An_empty_history_is_the_timeline_alone_from_the_start()
    {
        Assert.Equal([new TimelineSpan(1, Lsn.Zero, Lsn.Zero)], TimelineHistory.Parse(1, ""));
    }

    [Fact]
    public void Comments_blank_lines_leading_whitespace_and_carriage_returns_are_skipped()
    {
        var content = "# written by hand\r\n\r\n   \n  1\t0/5000098\tno recovery target specified\r\n\t# another comment\n2\t0/7000000\r\n";

        Assert.Equal(Timeline3, TimelineHistory.Parse(3, content));
    }

    [Fact]
    public void The_reason_of_a_switch_is_optional()
    {
        Assert.Equal(
            [new TimelineSpan(1, Lsn.Zero, Lsn.Parse("0/5000098")), new TimelineSpan(2, Lsn.Parse("0/5000098"), Lsn.Zero)],
            TimelineHistory.Parse(2, "1\t0/5000098"));
    }

    [Fact]
    public void Fields_may_be_separated_by_any_run_of_spaces_and_tabs_as_PostgreSQL_reads_them()
    {
        var content = "1 0/5000098  no recovery target specified\n2 \t 0/7000000\tbefore 2024-01-01 00:00:00+00\n";

        Assert.Equal(Timeline3, TimelineHistory.Parse(3, content));
    }

    [Fact]
    public void Timelines_may_skip_numbers()
    {
        var history = TimelineHistory.Parse(9, "1\t0/5000098\tx\n4\t0/7000000\ty\n");

        Assert.Equal([1u, 4u, 9u], history.Select(s => s.Timeline).ToArray());
    }

    [Theory]
    [InlineData("1\t0/5000098\tx\n1\t0/7000000\ty\n")]
    [InlineData("2\t0/5000098\tx\n1\t0/7000000\ty\n")]
    public void Timeline_ids_that_do_not_increase_are_an_error(string content)
    {
        var ex = Assert.Throws<FormatException>(() => TimelineHistory.Parse(3, content));

        Assert.Equal("timeline IDs must increase in the history file of timeline 3", ex.Message);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(1u)]
    public void A_history_that_names_its_own_or_a_later_timeline_is_an_error(uint timeline)
    {
        var ex = Assert.Throws<FormatException>(() => TimelineHistory.Parse(timeline, "1\t0/5000098\tx\n2\t0/7000000\ty\n"));

        Assert.Equal($"the history file of timeline {timeline} names a later timeline 2", ex.Message);
    }

    [Theory]
    [InlineData("one\t0/5000098\tx", "one\t0/5000098\tx")]
    [InlineData("1", "1")]
    [InlineData("1\t5000098\tx", "1\t5000098\tx")]
    [InlineData("-1\t0/5000098\tx", "-1\t0/5000098\tx")]
    [InlineData("1\t\t", "1\t\t")]
    [InlineData("10/5000098", "10/5000098")]
    public void A_line_that_is_not_a_timeline_and_a_switch_point_is_a_syntax_error_that_quotes_it(string content, string quoted)
    {
        var ex = Assert.Throws<FormatException>(() => TimelineHistory.Parse(3, content));

        Assert.Equal($"syntax error in the history file of timeline 3: '{quoted}'", ex.Message);
    }

    [Theory]
    [InlineData(1u, "0/0", true)]
    [InlineData(1u, "0/5000000", true)]
    [InlineData(1u, "0/5000098", true)] // an end position at the switch point: the child continues from there
    [InlineData(1u, "0/5000099", false)]
    [InlineData(2u, "0/5000097", false)]
    [InlineData(2u, "0/5000098", true)]
    [InlineData(2u, "0/6000000", true)]
    [InlineData(2u, "0/7000000", true)]
    [InlineData(2u, "0/7000001", false)]
    [InlineData(3u, "0/6FFFFFF", false)]
    [InlineData(3u, "0/7000000", true)]
    [InlineData(3u, "FFFFFFFF/FFFFFFFF", true)]
    [InlineData(4u, "0/7000000", false)]
    public void A_position_is_on_the_path_when_its_timeline_is_in_the_history_and_it_lies_in_that_timeline_span(uint timeline, string lsn, bool expected)
    {
        Assert.Equal(expected, TimelineHistory.Contains(Timeline3, timeline, Lsn.Parse(lsn)));
    }
}
