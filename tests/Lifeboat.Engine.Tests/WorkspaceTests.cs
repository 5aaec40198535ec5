using Lifeboat.Engine.Application;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Engine.Tests;

public sealed class WorkspaceTests
{
    [Fact]
    public void A_call_finds_PostgreSQL_programs_through_its_own_environment_not_the_process()
    {
        using var f = new EngineFixture(createTree: false);
        var bin = f.Dir.Combine("pg", "bin");

        // A call whose environment names a directory uses it, whatever the process environment says …
        var given = f.Use<Workspace>(environment: new Dictionary<string, string?> { [PgBinaries.Variable] = bin }).PgBinaries;
        Assert.Equal(bin, given.Override);
        Assert.Equal(Path.Combine(bin, "pg_dump"), given.Client("pg_dump"));
        Assert.Equal(bin, given.Server(15));

        // … and a call given an environment without it does not see the process's (CI sets LIFEBOAT_PG_BINDIR).
        Assert.Null(f.Use<Workspace>(environment: new Dictionary<string, string?>()).PgBinaries.Override);
    }
}
