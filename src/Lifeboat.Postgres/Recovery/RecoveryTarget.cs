using Lifeboat.Core;

namespace Lifeboat.Postgres.Recovery;

public enum RecoveryTargetKind
{
    /// <summary>Replay all archived WAL (the end of the archive).</summary>
    Latest,
    Time,
    Lsn,
    Xid,
    Name,
    /// <summary>Stop as soon as the backup is consistent.</summary>
    Immediate,
}

/// <summary>
/// Where point-in-time recovery stops (PostgreSQL's recovery_target_* settings). <see cref="Inclusive"/> false stops just
/// before the target (recovery_target_inclusive = off): for an LSN, every record that starts before it is replayed and
/// the one that starts there is not.
/// </summary>
public sealed record RecoveryTarget(RecoveryTargetKind Kind, string? Value = null, bool Inclusive = true)
{
    public static RecoveryTarget Latest { get; } = new(RecoveryTargetKind.Latest);

    public DateTimeOffset? Time => Kind == RecoveryTargetKind.Time ? TimeParsing.Parse(Value!, "«targetTime»") : null;

    public Lsn? Lsn => Kind == RecoveryTargetKind.Lsn ? Core.Lsn.Parse(Value!) : null;

    /// <summary>Builds the target from the restore flags; at most one may be given.</summary>
    public static RecoveryTarget FromOptions(string? time, string? lsn, string? xid, string? name, string? target)
    {
        var given = new List<RecoveryTarget>();
        if (time is not null)
        {
            TimeParsing.Parse(time, "«targetTime»");
            given.Add(new RecoveryTarget(RecoveryTargetKind.Time, time));
        }

        if (lsn is not null)
        {
            Core.Lsn.Parse(lsn);
            given.Add(new RecoveryTarget(RecoveryTargetKind.Lsn, lsn));
        }

        if (xid is not null)
        {
            if (!ulong.TryParse(xid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"«targetXid» '{xid}' is not a transaction id", "give the number txid_current() showed, for example 7431");
            }

            given.Add(new RecoveryTarget(RecoveryTargetKind.Xid, xid));
        }

        if (name is not null)
        {
            given.Add(new RecoveryTarget(RecoveryTargetKind.Name, name));
        }

        if (target is not null)
        {
            if (target != "immediate")
            {
                throw new LifeboatException(ErrorCode.Usage, $"«target» '{target}' is not known", "the only value is «target» immediate (stop as soon as the backup is consistent)");
            }

            given.Add(new RecoveryTarget(RecoveryTargetKind.Immediate));
        }

        return given.Count switch
        {
            0 => Latest,
            1 => given[0],
            _ => throw new LifeboatException(ErrorCode.Usage, "give at most one recovery target («targetTime», «targetLsn», «targetXid», «targetName» or «target» immediate)", "choose the one that names the moment to recover to"),
        };
    }

    public override string ToString() => Kind switch
    {
        RecoveryTargetKind.Latest => "the end of the archived WAL",
        RecoveryTargetKind.Immediate => "the end of the backup (immediate)",
        _ => $"{Kind.ToString().ToLowerInvariant()} {Value}" + (Inclusive ? "" : " (exclusive)"),
    };
}
