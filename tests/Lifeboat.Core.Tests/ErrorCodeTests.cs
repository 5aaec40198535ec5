namespace Lifeboat.Core.Tests;

public sealed class ErrorCodeTests
{
    [Theory]
    [InlineData(ErrorCode.Failed, 1)]
    [InlineData(ErrorCode.Cancelled, 1)]
    [InlineData(ErrorCode.TargetFailed, 1)]
    [InlineData(ErrorCode.RepositoryLocked, 1)]
    [InlineData(ErrorCode.PostgresFailed, 1)]
    [InlineData(ErrorCode.NotFound, 1)]
    [InlineData(ErrorCode.Usage, 2)]
    [InlineData(ErrorCode.Config, 2)]
    [InlineData(ErrorCode.RepositoryUnavailable, 2)]
    [InlineData(ErrorCode.WrongPassphrase, 2)]
    [InlineData(ErrorCode.InvalidInput, 2)]
    [InlineData(ErrorCode.Refused, 2)]
    [InlineData(ErrorCode.PermissionDenied, 2)]
    [InlineData(ErrorCode.NoSpace, 2)]
    [InlineData(ErrorCode.NoSuchBackup, 2)]
    [InlineData(ErrorCode.Suspended, 2)]
    [InlineData(ErrorCode.QuotaExceeded, 2)]
    [InlineData(ErrorCode.Damage, 3)]
    [InlineData(ErrorCode.ApprovalRequired, 4)]
    public void Each_error_code_maps_to_the_exit_code_of_the_command_line_contract(ErrorCode code, int exitCode)
    {
        Assert.Equal(exitCode, code.ToExitCode());
        Assert.Equal(exitCode, new LifeboatException(code, "message").ExitCode);
    }

    [Fact]
    public void Every_error_code_maps_to_exit_code_1_2_3_or_4()
    {
        Assert.All(Enum.GetValues<ErrorCode>(), code => Assert.InRange(code.ToExitCode(), 1, 4));
    }

    [Fact]
    public void The_numeric_values_of_error_codes_are_stable()
    {
        // Part of the JSON output: a renumbering breaks scripts that read it.
        var expected = new Dictionary<ErrorCode, int>
        {
            [ErrorCode.Failed] = 100,
            [ErrorCode.Cancelled] = 101,
            [ErrorCode.TargetFailed] = 102,
            [ErrorCode.RepositoryLocked] = 103,
            [ErrorCode.PostgresFailed] = 104,
            [ErrorCode.NotFound] = 105,
            [ErrorCode.Maintenance] = 106,
            [ErrorCode.Usage] = 200,
            [ErrorCode.Config] = 201,
            [ErrorCode.RepositoryUnavailable] = 202,
            [ErrorCode.WrongPassphrase] = 203,
            [ErrorCode.InvalidInput] = 204,
            [ErrorCode.Refused] = 205,
            [ErrorCode.PermissionDenied] = 206,
            [ErrorCode.NoSpace] = 207,
            [ErrorCode.NoSuchBackup] = 208,
            [ErrorCode.Suspended] = 209,
            [ErrorCode.QuotaExceeded] = 210,
            [ErrorCode.Damage] = 300,
            [ErrorCode.ApprovalRequired] = 400,
        };

        Assert.Equal(expected.Keys.Order(), Enum.GetValues<ErrorCode>().Order());
        Assert.All(expected, pair => Assert.Equal(pair.Value, (int)pair.Key));
    }

    [Fact]
    public void Access_denied_becomes_a_permission_error_naming_the_path_and_the_user()
    {
        var error = LifeboatException.PermissionDenied(new UnauthorizedAccessException("Access to the path '/srv/it's here/x' is denied."));
        Assert.Equal(ErrorCode.PermissionDenied, error.Code);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"permission denied: OS user '{Environment.UserName}' cannot use /srv/it's here/x", error.Message);
        Assert.StartsWith($"let '{Environment.UserName}' use /srv/it's here/x (chown or chmod it", error.Hint, StringComparison.Ordinal);

        var named = LifeboatException.PermissionDenied("/etc/lifeboat/lifeboat.json", "read", "the configuration file ");
        Assert.Equal($"permission denied: OS user '{Environment.UserName}' cannot read the configuration file /etc/lifeboat/lifeboat.json", named.Message);
    }

    [Theory]
    [InlineData("bakup", "backup")]
    [InlineData("resotre", "restore")]
    [InlineData("chek", "check")]
    [InlineData("list", "list")]
    [InlineData("frobnicate", null)]
    [InlineData("x", null)]
    [InlineData("ver", "verify")]
    public void Nearest_suggests_the_closest_known_word_or_nothing(string typed, string? expected)
        => Assert.Equal(expected, Nearest.Match(typed, ["backup", "restore", "check", "list", "verify", "prune"]));

    [Fact]
    public void A_lifeboat_exception_keeps_its_message_hint_and_cause()
    {
        var cause = new IOException("disk on fire");

        var error = new LifeboatException(ErrorCode.Config, "the repository URL is wrong", "check Repository:Url", cause);

        Assert.Equal("the repository URL is wrong", error.Message);
        Assert.Equal("check Repository:Url", error.Hint);
        Assert.Same(cause, error.InnerException);
        Assert.Equal(2, error.ExitCode);
    }

    [Fact]
    public void A_damage_exception_exits_with_3_and_names_the_damaged_objects_and_affected_backups()
    {
        var error = new DamageException("pack 5f0e1a2b is damaged", ["data/5f/5f0e1a2b"], ["20261122-140300-3f9a"]);

        Assert.Equal(ErrorCode.Damage, error.Code);
        Assert.Equal(3, error.ExitCode);
        Assert.Equal(["data/5f/5f0e1a2b"], error.DamagedObjects);
        Assert.Equal(["20261122-140300-3f9a"], error.AffectedBackups);
        Assert.Null(error.Hint);
    }
}
