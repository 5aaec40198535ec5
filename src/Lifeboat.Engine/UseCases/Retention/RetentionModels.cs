using Lifeboat.Core;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Retention;

/// <summary>
/// A retention policy as a request gives it and a response shows it: the fields of Sources:NAME:Retention
/// (docs/configuration.md#retention), or <see cref="Spec"/>, the short form people type (<c>90d</c>,
/// <c>last=7,daily=14,window=7d</c>).
/// </summary>
/// <param name="PitrWindow">Clusters: every point of this last span stays recoverable.</param>
/// <param name="MinimumKeep">Never keep fewer backups (null: 1).</param>
/// <param name="TimeZone">IANA time zone of the day/week/month/year buckets (null: UTC).</param>
/// <param name="Spec">Requests only: the short form instead of the fields.</param>
public sealed record RetentionSettings(int? KeepLast = null, int? KeepDaily = null, int? KeepWeekly = null, int? KeepMonthly = null, int? KeepYearly = null, TimeSpan? PitrWindow = null, int? MinimumKeep = null, string? TimeZone = null, string? Spec = null)
{
    public static RetentionSettings From(RetentionOptions o) => new(o.KeepLast, o.KeepDaily, o.KeepWeekly, o.KeepMonthly, o.KeepYearly, o.PitrWindow, o.MinimumKeep, o.TimeZone);

    /// <summary>The options these settings give; 400 naming the field that is wrong.</summary>
    public RetentionOptions ToOptions()
    {
        RetentionOptions options;
        if (Spec is { Length: > 0 } spec)
        {
            if (KeepLast is not null || KeepDaily is not null || KeepWeekly is not null || KeepMonthly is not null || KeepYearly is not null || PitrWindow is not null || MinimumKeep is not null)
            {
                throw new LifeboatException(ErrorCode.Usage, $"{FieldText.Ref("spec")} and the policy's fields were both given", "give either «spec» (for example last=7,daily=14) or the fields, not both");
            }

            options = RetentionSpec.Parse(spec, "spec");
            options.TimeZone = TimeZone;
        }
        else
        {
            foreach (var (field, value) in new[] { ("keepLast", KeepLast), ("keepDaily", KeepDaily), ("keepWeekly", KeepWeekly), ("keepMonthly", KeepMonthly), ("keepYearly", KeepYearly), ("minimumKeep", MinimumKeep) })
            {
                if (value is < 0)
                {
                    throw new LifeboatException(ErrorCode.InvalidInput, $"{FieldText.Ref(field)} {value} is negative", "use 0 or a positive count");
                }
            }

            if (PitrWindow is { } w && w < TimeSpan.Zero)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"{FieldText.Ref("pitrWindow")} {w} is negative", "use a duration such as 7.00:00:00");
            }

            options = new RetentionOptions { KeepLast = KeepLast, KeepDaily = KeepDaily, KeepWeekly = KeepWeekly, KeepMonthly = KeepMonthly, KeepYearly = KeepYearly, PitrWindow = PitrWindow, TimeZone = TimeZone };
            options.MinimumKeep = MinimumKeep ?? options.MinimumKeep;
        }

        options.TimeZone = string.IsNullOrEmpty(options.TimeZone) ? null : options.TimeZone;
        try
        {
            _ = options.ToPolicy().Zone();
        }
        catch (LifeboatException ex)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{FieldText.Ref("timeZone")} '{options.TimeZone}' is not a known time zone", ex.Hint);
        }

        return options;
    }
}

/// <summary>A secondary target whose own retention (Targets:NAME:Retention) replaces the source's there.</summary>
public sealed record TargetRetention(string Target, string Policy);

/// <summary>
/// A source's retention: the policy for people, its settings, the PITR window (clusters), and the targets whose own
/// retention overrides it there.
/// </summary>
/// <param name="KeepsEverything">No rule is set: expire deletes nothing of this source.</param>
public sealed record SourceRetention(string Source, string Kind, string Policy, bool KeepsEverything, TimeSpan? PitrWindow, RetentionSettings Settings, IReadOnlyList<TargetRetention> Overrides)
{
    internal static SourceRetention From(string name, SourceOptions source, IEnumerable<Replication.ConfiguredTarget> targets)
    {
        var policy = source.Retention.ToPolicy();
        return new SourceRetention(name, source.Kind, policy.ToString(), policy.KeepsEverything, source.Retention.PitrWindow, RetentionSettings.From(source.Retention),
            targets.Where(t => t.Options?.Retention is not null).Select(t => new TargetRetention(t.Name, t.RetentionText)).ToList());
    }
}
