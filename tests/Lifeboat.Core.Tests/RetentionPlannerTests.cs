using System.Globalization;
using Lifeboat.Core.Retention;

namespace Lifeboat.Core.Tests;

/// <summary>Retention decisions on synthetic histories (a fixed clock, calendar boundaries, DST, leap days, pins).</summary>
public sealed class RetentionPlannerTests
{
    private static DateTimeOffset T(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture);

    private static List<RetentionCandidate> Daily(string first, int days, int hour = 2)
    {
        var start = T(first).AddHours(hour);
        return Enumerable.Range(0, days).Select(i => new RetentionCandidate($"b{i:000}", start.AddDays(i), false)).ToList();
    }

    private static IEnumerable<string> Kept(List<RetentionDecision> decisions) => decisions.Where(d => d.Keep).Select(d => d.Id);

    [Fact]
    public void No_rule_keeps_everything()
    {
        var decisions = RetentionPlanner.Plan(Daily("2026-01-01T00:00:00Z", 10), new RetentionPolicy(), T("2026-02-01T00:00:00Z"));
        Assert.All(decisions, d => Assert.True(d.Keep));
        Assert.All(decisions, d => Assert.Equal("no retention rule is set", Assert.Single(d.Reasons)));
    }

    [Fact]
    public void Keep_last_keeps_the_newest_and_explains_every_decision()
    {
        var decisions = RetentionPlanner.Plan(Daily("2026-01-01T00:00:00Z", 5), new RetentionPolicy { KeepLast = 2 }, T("2026-02-01T00:00:00Z"));
        Assert.Equal(["b004", "b003"], Kept(decisions));
        Assert.Equal("last 2", decisions.Single(d => d.Id == "b004").Reasons.Single());
        Assert.Equal("outside all rules", decisions.Single(d => d.Id == "b000").Reasons.Single());
    }

    [Fact]
    public void Monthly_keeps_the_newest_backup_of_each_month_across_a_year_boundary()
    {
        var backups = Daily("2025-11-20T00:00:00Z", 70); // 2025-11-20 .. 2026-01-28
        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepMonthly = 3 }, T("2026-02-01T00:00:00Z"));
        var kept = decisions.Where(d => d.Keep).ToList();
        Assert.Equal(["monthly 2026-01", "monthly 2025-12", "monthly 2025-11"], kept.Select(d => d.Reasons.Single()));
        Assert.Equal(T("2025-12-31T02:00:00Z"), kept[1].Time);
        Assert.Equal(T("2025-11-30T02:00:00Z"), kept[2].Time);
    }

    [Fact]
    public void Yearly_and_weekly_buckets_follow_the_calendar()
    {
        var backups = Daily("2024-12-25T00:00:00Z", 20); // spans 2024 → 2025, ISO week 2025-W01 starts 2024-12-30
        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepYearly = 2, KeepWeekly = 2 }, T("2025-02-01T00:00:00Z"));
        Assert.Contains(decisions, d => d.Reasons.Contains("yearly 2025") && d.Time == T("2025-01-13T02:00:00Z"));
        Assert.Contains(decisions, d => d.Reasons.Contains("yearly 2024") && d.Time == T("2024-12-31T02:00:00Z"));
        Assert.Contains(decisions, d => d.Reasons.Contains("weekly 2025-W03"));
        Assert.Contains(decisions, d => d.Reasons.Contains("weekly 2025-W02") && d.Time == T("2025-01-12T02:00:00Z"));
    }

    [Fact]
    public void Daily_buckets_use_the_configured_time_zone_across_a_daylight_saving_change()
    {
        // Europe/Berlin leaves summer time on 2026-10-25 at 03:00 local (01:00 UTC).
        var backups = new List<RetentionCandidate>
        {
            new("late-24th", T("2026-10-24T22:30:00Z"), false),  // 00:30 on the 25th in Berlin (summer time)
            new("early-25th", T("2026-10-25T00:30:00Z"), false), // 02:30 on the 25th in Berlin
            new("late-25th", T("2026-10-25T22:30:00Z"), false),  // 23:30 on the 25th in Berlin (winter time)
            new("on-26th", T("2026-10-25T23:30:00Z"), false),    // 00:30 on the 26th in Berlin
        };
        var berlin = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepDaily = 2, TimeZone = "Europe/Berlin" }, T("2026-10-27T00:00:00Z"));
        Assert.Equal(["on-26th", "late-25th"], Kept(berlin));
        Assert.Contains("daily 2026-10-25", berlin.Single(d => d.Id == "late-25th").Reasons);
        var utc = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepDaily = 2 }, T("2026-10-27T00:00:00Z"));
        // In UTC, "on-26th" (23:30Z) is still the 25th: the two days are the 25th and the 24th.
        Assert.Equal(["on-26th", "late-24th"], Kept(utc));
    }

    [Fact]
    public void A_leap_day_is_a_day_of_its_own()
    {
        var backups = Daily("2028-02-27T00:00:00Z", 4); // 27, 28, 29 Feb, 1 Mar 2028
        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepDaily = 3 }, T("2028-03-02T00:00:00Z"));
        Assert.Equal(["daily 2028-03-01", "daily 2028-02-29", "daily 2028-02-28"], decisions.Where(d => d.Keep).Select(d => d.Reasons.Single()));
    }

    [Fact]
    public void Pinned_backups_never_expire_and_a_minimum_is_always_kept()
    {
        var backups = Daily("2026-01-01T00:00:00Z", 5);
        backups[1] = backups[1] with { Pinned = true };
        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { KeepLast = 0, MinimumKeep = 2 }, T("2026-02-01T00:00:00Z"));
        Assert.Equal(["b004", "b001"], Kept(decisions));
        Assert.Equal("pinned", decisions.Single(d => d.Id == "b001").Reasons.Single());
        Assert.Equal("minimum 2", decisions.Single(d => d.Id == "b004").Reasons.Single());
    }

    [Fact]
    public void A_pitr_window_keeps_the_backups_inside_it_and_the_base_just_before_it()
    {
        var backups = Daily("2026-01-01T00:00:00Z", 20).Select(b => b with { RecoverableFrom = b.Time.AddMinutes(5) }).ToList();
        var now = T("2026-01-20T12:00:00Z");
        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { PitrWindow = TimeSpan.FromDays(3) }, now);
        // Window starts 2026-01-17 12:00: backups of the 18th, 19th, 20th are inside; the 17th's (02:05) is its base.
        Assert.Equal(["b019", "b018", "b017", "b016"], Kept(decisions));
        Assert.StartsWith("needed for the PITR window", decisions.Single(d => d.Id == "b016").Reasons.Single(), StringComparison.Ordinal);
        Assert.Equal("inside the PITR window", decisions.Single(d => d.Id == "b018").Reasons.Single());
    }

    [Fact]
    public void A_pitr_window_longer_than_the_history_keeps_the_oldest_as_its_base()
    {
        var backups = Daily("2026-01-01T00:00:00Z", 3);
        var decisions = RetentionPlanner.Plan(backups, new RetentionPolicy { PitrWindow = TimeSpan.FromDays(30) }, T("2026-01-05T00:00:00Z"));
        Assert.All(decisions, d => Assert.True(d.Keep));
        Assert.Contains(decisions.Single(d => d.Id == "b000").Reasons, r => r.StartsWith("needed for the PITR window", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_time_zone_is_a_configuration_error()
    {
        var ex = Assert.Throws<LifeboatException>(() => new RetentionPolicy { KeepDaily = 1, TimeZone = "Mars/Olympus" }.Validate("Sources:x:Retention"));
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal("the retention time zone 'Mars/Olympus' is not known", ex.Message);
    }
}
