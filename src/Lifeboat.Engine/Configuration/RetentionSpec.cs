using System.Globalization;
using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// The short form of a retention policy people type (<c>90d</c>, <c>last=7,daily=14,window=7d</c>): a duration alone is a
/// PITR window (keep every backup needed to restore any point of the last N days); otherwise comma-separated
/// <c>key=value</c>.
/// </summary>
public static class RetentionSpec
{
    /// <param name="field">The request field the spec came from (named in errors).</param>
    public static RetentionOptions Parse(string spec, string field)
    {
        var options = new RetentionOptions();
        foreach (var part in spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                options.PitrWindow = Duration.Parse(part, FieldText.Ref(field));
                continue;
            }

            var key = part[..eq];
            var value = part[(eq + 1)..];
            switch (key)
            {
                case "window":
                    options.PitrWindow = Duration.Parse(value, $"{FieldText.Ref(field)} window");
                    break;
                case "last": options.KeepLast = Count(field, key, value); break;
                case "daily": options.KeepDaily = Count(field, key, value); break;
                case "weekly": options.KeepWeekly = Count(field, key, value); break;
                case "monthly": options.KeepMonthly = Count(field, key, value); break;
                case "yearly": options.KeepYearly = Count(field, key, value); break;
                case "min": options.MinimumKeep = Count(field, key, value); break;
                default:
                    throw new LifeboatException(ErrorCode.Usage, $"{FieldText.Ref(field)}: unknown key '{key}'", "use 90d, or last=N, daily=N, weekly=N, monthly=N, yearly=N, window=DURATION, min=N separated by commas");
            }
        }

        options.ToPolicy().Validate(FieldText.Ref(field));
        return options;
    }

    private static int Count(string field, string key, string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new LifeboatException(ErrorCode.Usage, $"{FieldText.Ref(field)} {key}={value}: not a count", $"write {key}=N with N a whole number");
}
