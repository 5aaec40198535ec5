using Lifeboat.Core;
using Lifeboat.Postgres.Recovery;

namespace Lifeboat.Postgres.Tests;

public sealed class RecoveryTargetTests
{
    [Fact]
    public void Without_options_recovery_runs_to_the_end_of_the_archive()
    {
        Assert.Same(RecoveryTarget.Latest, RecoveryTarget.FromOptions(null, null, null, null, null));
        Assert.Equal("the end of the archived WAL", RecoveryTarget.Latest.ToString());
    }

    [Fact]
    public void Each_option_gives_its_kind_of_target()
    {
        Assert.Equal(new RecoveryTarget(RecoveryTargetKind.Time, "2026-11-22 14:03:00+01"), RecoveryTarget.FromOptions("2026-11-22 14:03:00+01", null, null, null, null));
        Assert.Equal(new RecoveryTarget(RecoveryTargetKind.Lsn, "0/16B3748"), RecoveryTarget.FromOptions(null, "0/16B3748", null, null, null));
        Assert.Equal(new RecoveryTarget(RecoveryTargetKind.Xid, "7431"), RecoveryTarget.FromOptions(null, null, "7431", null, null));
        Assert.Equal(new RecoveryTarget(RecoveryTargetKind.Name, "before-upgrade"), RecoveryTarget.FromOptions(null, null, null, "before-upgrade", null));
        Assert.Equal(new RecoveryTarget(RecoveryTargetKind.Immediate), RecoveryTarget.FromOptions(null, null, null, null, "immediate"));
    }

    [Fact]
    public void A_time_target_exposes_its_time_and_an_LSN_target_its_LSN()
    {
        var time = RecoveryTarget.FromOptions("2026-11-22 14:03:00+01", null, null, null, null);
        var lsn = RecoveryTarget.FromOptions(null, "0/16B3748", null, null, null);

        Assert.Equal(new DateTimeOffset(2026, 11, 22, 13, 3, 0, TimeSpan.Zero), time.Time);
        Assert.Null(time.Lsn);
        Assert.Equal(Lsn.Parse("0/16B3748"), lsn.Lsn);
        Assert.Null(lsn.Time);
        Assert.Equal("lsn 0/16B3748", lsn.ToString());
    }

    [Theory]
    [InlineData("2026-11-22 14:03:00+01", "0/16B3748", null, null, null)]
    [InlineData(null, null, "7431", "before-upgrade", null)]
    [InlineData(null, "0/16B3748", null, null, "immediate")]
    [InlineData("2026-11-22 14:03:00+01", "0/16B3748", "7431", "before-upgrade", "immediate")]
    public void More_than_one_target_is_a_usage_error(string? time, string? lsn, string? xid, string? name, string? target)
    {
        var ex = Assert.Throws<LifeboatException>(() => RecoveryTarget.FromOptions(time, lsn, xid, name, target));

        Assert.Equal("give at most one recovery target («targetTime», «targetLsn», «targetXid», «targetName» or «target» immediate)", ex.Message);
        Assert.Equal(["targetTime", "targetLsn", "targetXid", "targetName", "target"], ex.Fields);
        Assert.Equal(ErrorCode.Usage, ex.Code);
        Assert.Equal(2, ex.ExitCode);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+7")]
    [InlineData("7 431")]
    [InlineData("")]
    [InlineData("18446744073709551616")]
    public void A_transaction_id_that_is_not_a_number_is_refused(string xid)
    {
        var ex = Assert.Throws<LifeboatException>(() => RecoveryTarget.FromOptions(null, null, xid, null, null));

        Assert.Equal($"«targetXid» '{xid}' is not a transaction id", ex.Message);
        Assert.Equal("give the number txid_current() showed, for example 7431", ex.Hint);
        Assert.Equal(2, ex.ExitCode);
    }

    [Theory]
    [InlineData("2026-11-22 14:03:00")]
    [InlineData("yesterday")]
    public void A_time_without_an_offset_is_refused(string time)
    {
        var ex = Assert.Throws<LifeboatException>(() => RecoveryTarget.FromOptions(time, null, null, null, null));

        Assert.Equal($"«targetTime» '{time}' is not a time with an offset", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void A_bad_LSN_is_refused()
    {
        var ex = Assert.Throws<LifeboatException>(() => RecoveryTarget.FromOptions(null, "16B3748", null, null, null));

        Assert.Equal("'16B3748' is not an LSN", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void An_unknown_target_word_is_a_usage_error()
    {
        var ex = Assert.Throws<LifeboatException>(() => RecoveryTarget.FromOptions(null, null, null, null, "latest"));

        Assert.Equal("«target» 'latest' is not known", ex.Message);
        Assert.Equal(ErrorCode.Usage, ex.Code);
    }
}
