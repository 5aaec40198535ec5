namespace Lifeboat.Engine.Configuration;

/// <summary>Sources:NAME:Retention (see <see cref="Core.Retention.RetentionPolicy"/>).</summary>
public sealed class RetentionOptions
{
    public int? KeepLast { get; set; }

    public int? KeepDaily { get; set; }

    public int? KeepWeekly { get; set; }

    public int? KeepMonthly { get; set; }

    public int? KeepYearly { get; set; }

    public TimeSpan? PitrWindow { get; set; }

    public int MinimumKeep { get; set; } = 1;

    public string? TimeZone { get; set; }

    public Core.Retention.RetentionPolicy ToPolicy() => new()
    {
        KeepLast = KeepLast,
        KeepDaily = KeepDaily,
        KeepWeekly = KeepWeekly,
        KeepMonthly = KeepMonthly,
        KeepYearly = KeepYearly,
        PitrWindow = PitrWindow,
        MinimumKeep = MinimumKeep,
        TimeZone = TimeZone,
    };
}
