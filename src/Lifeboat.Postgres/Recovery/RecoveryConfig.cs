using System.Text;
using System.Text.RegularExpressions;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Recovery;

/// <summary>
/// Writes the recovery settings of a restored data directory (PostgreSQL 12+): recovery.signal, and restore_command
/// with the recovery target appended to postgresql.auto.conf. Earlier recovery settings in that file are commented out.
/// </summary>
public static partial class RecoveryConfig
{
    public const string AutoConf = "postgresql.auto.conf";

    public static void Write(string pgdata, string restoreCommand, RecoveryTarget target, string? targetTimeline, string targetAction, bool archiveOff, DateTimeOffset now)
    {
        var path = Path.Combine(pgdata, AutoConf);
        var existing = File.Exists(path) ? File.ReadAllLines(path) : [];
        var sb = new StringBuilder();
        foreach (var line in existing)
        {
            if (RecoverySetting().IsMatch(line) || (archiveOff && ArchiveModeSetting().IsMatch(line)))
            {
                sb.Append("# Removed by lifeboat restore: ").AppendLine(line);
            }
            else
            {
                sb.AppendLine(line);
            }
        }

        var text = sb.ToString().TrimEnd();
        var settings = new List<(string Key, string Value)> { ("restore_command", restoreCommand) };
        switch (target.Kind)
        {
            case RecoveryTargetKind.Time:
                settings.Add(("recovery_target_time", TimeParsing.ToPostgres(target.Time!.Value)));
                break;
            case RecoveryTargetKind.Lsn:
                settings.Add(("recovery_target_lsn", target.Value!));
                break;
            case RecoveryTargetKind.Xid:
                settings.Add(("recovery_target_xid", target.Value!));
                break;
            case RecoveryTargetKind.Name:
                settings.Add(("recovery_target_name", target.Value!));
                break;
            case RecoveryTargetKind.Immediate:
                settings.Add(("recovery_target", "immediate"));
                break;
        }

        if (!target.Inclusive && target.Kind is not (RecoveryTargetKind.Latest or RecoveryTargetKind.Immediate))
        {
            settings.Add(("recovery_target_inclusive", "off"));
        }

        if (target.Kind != RecoveryTargetKind.Latest)
        {
            settings.Add(("recovery_target_action", targetAction));
        }

        // An immediate target must stay on the backup's timeline: 'latest' may not be reachable from it.
        var timeline = targetTimeline ?? (target.Kind == RecoveryTargetKind.Immediate ? "current" : null);
        if (timeline is not null)
        {
            settings.Add(("recovery_target_timeline", timeline));
        }

        if (archiveOff)
        {
            settings.Add(("archive_mode", "off"));
        }

        var block = new StringBuilder();
        block.Append("# Recovery settings written by lifeboat restore on ").AppendLine(now.ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (key, value) in settings)
        {
            block.Append(key).Append(" = ").AppendLine(ConfQuote(value));
        }

        File.WriteAllText(path, (text.Length > 0 ? text + "\n\n" : "") + block);
        File.WriteAllText(Path.Combine(pgdata, "recovery.signal"), "");
    }

    /// <summary>
    /// A value as a string literal of postgresql.conf: PostgreSQL reads backslash escapes inside quotes, so backslashes
    /// are doubled as well as single quotes (as ALTER SYSTEM writes postgresql.auto.conf).
    /// </summary>
    public static string ConfQuote(string value)
        => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Quotes a word for the shell that runs restore_command and archive_command.</summary>
    public static string ShellQuote(string word)
        => word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+=:,@%".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"^[\t ]*(recovery_target|recovery_target_action|recovery_target_inclusive|recovery_target_lsn|recovery_target_name|recovery_target_time|recovery_target_timeline|recovery_target_xid|restore_command)[\t ]*=", RegexOptions.CultureInvariant)]
    private static partial Regex RecoverySetting();

    [GeneratedRegex(@"^[\t ]*archive_mode[\t ]*=", RegexOptions.CultureInvariant)]
    private static partial Regex ArchiveModeSetting();
}
