namespace Lifeboat.Core.Tests;

public sealed class BackupIdTests
{
    private static readonly DateTimeOffset Started = new(2026, 11, 22, 14, 3, 0, 123, TimeSpan.Zero);

    [Fact]
    public void A_new_id_is_the_UTC_start_time_and_the_fraction_of_its_second_in_hex()
    {
        var id = BackupId.New(Started);

        // 0.123 s × 65536 = 8060.9 → 0x1f7c
        Assert.Equal("20261122-140300-1f7c", id);
        Assert.True(BackupId.IsValid(id));
    }

    [Fact]
    public void A_start_time_with_an_offset_is_converted_to_UTC()
    {
        var id = BackupId.New(new DateTimeOffset(2026, 11, 23, 1, 3, 0, TimeSpan.FromHours(11)));

        Assert.StartsWith("20261122-140300-", id);
    }

    [Fact]
    public void Ids_of_the_same_second_sort_by_their_fraction_of_the_second()
    {
        var ids = new[] { 0, 1, 120, 500, 999 }.Select(ms => BackupId.New(Started.AddMilliseconds(ms - 123))).ToList();

        Assert.Equal(5, ids.Distinct().Count());
        Assert.Equal(ids, ids.OrderBy(id => id, StringComparer.Ordinal).ToList());
        Assert.All(ids, id => Assert.StartsWith("20261122-140300-", id, StringComparison.Ordinal));
    }

    [Fact]
    public void Ids_sort_by_start_time()
    {
        var times = new[]
        {
            new DateTimeOffset(2025, 12, 31, 23, 59, 59, TimeSpan.Zero),
            new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 1, 1, 0, 0, 1, TimeSpan.Zero),
            new DateTimeOffset(2026, 1, 1, 9, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero),
        };

        var ids = times.Select(BackupId.New).ToList();

        Assert.Equal(ids, ids.OrderBy(id => id, StringComparer.Ordinal).ToList());
    }

    [Theory]
    [InlineData("20261122-140300-3f9a")]
    [InlineData("19700101-000000-0000")]
    [InlineData("99991231-235959-ffff")]
    public void Well_formed_ids_are_valid(string id)
    {
        Assert.True(BackupId.IsValid(id));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("20261122-140300-3F9A")]
    [InlineData("20261122-140300-3f9")]
    [InlineData("20261122-140300-3f9a0")]
    [InlineData("20261122-140300-3f9g")]
    [InlineData("2026112-140300-3f9a")]
    [InlineData("20261122-1403000-3f9a")]
    [InlineData("20261122_140300_3f9a")]
    [InlineData("20261122140300-3f9a")]
    [InlineData(" 20261122-140300-3f9a")]
    [InlineData("20261122-140300-3f9a ")]
    [InlineData("20261122-140300-3f9a\n")]
    [InlineData("x/20261122-140300-3f9a")]
    [InlineData("backups/20261122-140300-3f9a")]
    // Digits other than ASCII 0-9 (Arabic-Indic, full-width) are not digits of an id.
    [InlineData("\u0662\u0660\u0662\u0666\u0661\u0661\u0662\u0662-140300-3f9a")]
    [InlineData("20261122-\uFF11\uFF14\uFF10\uFF13\uFF10\uFF10-3f9a")]
    public void Malformed_ids_are_not_valid(string? id)
    {
        Assert.False(BackupId.IsValid(id));
    }
}
