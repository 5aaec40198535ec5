using Lifeboat.Core;
using Lifeboat.Postgres.Layout;

namespace Lifeboat.Postgres.Tests;

/// <summary>
/// The tree of the initdb'd data directory plus the files a running cluster has besides, built once for the tests of
/// <see cref="ClusterLayoutTests"/> that only read it. The walk looks only at names and kinds, so files are empty.
/// </summary>
public sealed class RunningClusterTree : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Lock _lock = new();
    private (string PgData, string Db)? _tree;

    public (string PgData, string Db) Get(InitdbCluster cluster)
    {
        lock (_lock)
        {
            return _tree ??= Build(cluster);
        }
    }

    public void Dispose() => _dir.Dispose();

    private (string PgData, string Db) Build(InitdbCluster cluster)
    {
        var pgdata = _dir.Combine("pgdata");
        cluster.SkeletonTo(pgdata);
        var db = Path.GetFileName(Directory.GetDirectories(Path.Combine(pgdata, "base")).Order(StringComparer.Ordinal).First());
        void Touch(params string[] parts)
        {
            var path = Path.Combine([pgdata, .. parts]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, [1, 2, 3]);
        }

        Touch("postmaster.pid");
        Touch("postmaster.opts");
        Touch("backup_label");
        Touch("tablespace_map");
        Touch("recovery.signal");
        Touch("standby.signal");
        Touch("lifeboat_restored_copy");
        Touch("postgresql.auto.conf.tmp");
        Touch("pg_wal", "000000010000000000000002");
        Touch("pg_wal", "archive_status", "000000010000000000000001.ready");
        Touch("pg_replslot", "standby1", "state");
        Touch("pg_stat_tmp", "global.stat");
        Touch("pg_subtrans", "0000");
        Touch("base", "pgsql_tmp", "pgsql_tmp1234.0");
        Touch("base", db, "pgsql_tmp5678.1");
        Touch("base", db, "t3_16384");
        Touch("base", db, "t3_16384_fsm");
        Touch("base", db, "t3_16384.1");
        Touch("base", db, "pg_internal.init");
        Touch("base", db, "pg_internal.init.4321");
        Touch("global", "pg_internal.init");
        Touch("base", db, "16400");
        Touch("base", db, "16400.1");
        Touch("base", db, "16400_fsm");
        Touch("base", db, "16400_vm");
        Touch("base", db, "16400_init");
        Touch("base", db, "16384");
        Touch("base", db, "16384.1");
        Touch("base", db, "16384.2");
        Touch("base", db, "16384_fsm");
        Touch("base", db, "16384_vm");
        return (pgdata, db);
    }
}

public sealed class ClusterLayoutTests(InitdbCluster cluster, RunningClusterTree tree) : IClassFixture<RunningClusterTree>, IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private (string PgData, string Db) RunningClusterCopy() => tree.Get(cluster);

    /// <summary>A small data directory made by hand: the top-level directories a walk meets, one database, no PostgreSQL needed.</summary>
    private string SmallDataDirectory()
    {
        var pgdata = _dir.Dir("small");
        foreach (var dir in new[] { "global", "base/5", "pg_tblspc", "pg_wal/archive_status", "pg_xact" })
        {
            _dir.Dir("small", dir);
        }

        File.WriteAllText(Path.Combine(pgdata, "PG_VERSION"), "15\n");
        File.WriteAllBytes(Path.Combine(pgdata, "global", "pg_control"), new byte[8192]);
        File.WriteAllBytes(Path.Combine(pgdata, "pg_wal", "000000010000000000000001"), [1]);
        return pgdata;
    }

    private static List<ClusterEntry> Walk(string pgdata)
    {
        var problems = new List<string>();
        var entries = ClusterLayout.Walk(pgdata, [], problems);
        Assert.Empty(problems);
        return entries;
    }

    [Fact]
    public void Files_PostgreSQL_rebuilds_or_must_not_find_after_a_restore_are_left_out()
    {
        var (pgdata, db) = RunningClusterCopy();

        var paths = Walk(pgdata).Select(e => e.TreePath).ToHashSet(StringComparer.Ordinal);

        string[] excluded =
        [
            "pgdata/postmaster.pid", "pgdata/postmaster.opts", "pgdata/backup_label", "pgdata/tablespace_map",
            "pgdata/recovery.signal", "pgdata/standby.signal", "pgdata/postgresql.auto.conf.tmp", "pgdata/lifeboat_restored_copy",
            "pgdata/pg_wal/000000010000000000000001", "pgdata/pg_wal/000000010000000000000002",
            "pgdata/pg_wal/archive_status/000000010000000000000001.ready",
            "pgdata/pg_replslot/standby1", "pgdata/pg_replslot/standby1/state", "pgdata/pg_stat_tmp/global.stat", "pgdata/pg_subtrans/0000",
            "pgdata/base/pgsql_tmp", "pgdata/base/pgsql_tmp/pgsql_tmp1234.0", $"pgdata/base/{db}/pgsql_tmp5678.1",
            $"pgdata/base/{db}/t3_16384", $"pgdata/base/{db}/t3_16384_fsm", $"pgdata/base/{db}/t3_16384.1",
            $"pgdata/base/{db}/pg_internal.init", $"pgdata/base/{db}/pg_internal.init.4321", "pgdata/global/pg_internal.init",
        ];
        Assert.All(excluded, p => Assert.DoesNotContain(p, paths));
        string[] kept =
        [
            "", "pgdata", "pgdata/PG_VERSION", "pgdata/postgresql.conf", "pgdata/postgresql.auto.conf", "pgdata/global/pg_control",
            "pgdata/pg_wal", "pgdata/pg_wal/archive_status", "pgdata/pg_replslot", "pgdata/pg_stat_tmp", "pgdata/pg_subtrans",
            "pgdata/base", $"pgdata/base/{db}", $"pgdata/base/{db}/PG_VERSION", "pgdata/pg_xact/0000",
        ];
        Assert.All(kept, p => Assert.Contains(p, paths));
    }

    [Fact]
    public void Of_an_unlogged_relation_only_the_init_fork_is_kept()
    {
        var (pgdata, db) = RunningClusterCopy();

        var unlogged = Walk(pgdata).Where(e => e.TreePath.StartsWith($"pgdata/base/{db}/16400", StringComparison.Ordinal)).ToList();

        var init = Assert.Single(unlogged);
        Assert.Equal($"pgdata/base/{db}/16400_init", init.TreePath);
        Assert.True(init.IsRelation);
        Assert.Equal(0u, init.Segment);
    }

    [Fact]
    public void Relation_files_are_marked_with_their_segment_number()
    {
        var (pgdata, db) = RunningClusterCopy();

        var entries = Walk(pgdata).ToDictionary(e => e.TreePath, StringComparer.Ordinal);

        Assert.Equal((true, 0u), (entries[$"pgdata/base/{db}/16384"].IsRelation, entries[$"pgdata/base/{db}/16384"].Segment));
        Assert.Equal((true, 1u), (entries[$"pgdata/base/{db}/16384.1"].IsRelation, entries[$"pgdata/base/{db}/16384.1"].Segment));
        Assert.Equal((true, 2u), (entries[$"pgdata/base/{db}/16384.2"].IsRelation, entries[$"pgdata/base/{db}/16384.2"].Segment));
        Assert.True(entries[$"pgdata/base/{db}/16384_fsm"].IsRelation);
        Assert.True(entries[$"pgdata/base/{db}/16384_vm"].IsRelation);
        Assert.True(entries["pgdata/global/1262"].IsRelation); // pg_database, a shared catalog
        Assert.Equal(Path.Combine(pgdata, "base", db, "16384.2"), entries[$"pgdata/base/{db}/16384.2"].FullPath);
        Assert.Equal(ClusterEntryKind.File, entries[$"pgdata/base/{db}/16384.2"].Kind);
    }

    [Fact]
    public void Files_outside_database_directories_are_not_relations_even_with_numeric_names()
    {
        var (pgdata, db) = RunningClusterCopy();

        var entries = Walk(pgdata).ToDictionary(e => e.TreePath, StringComparer.Ordinal);

        Assert.False(entries["pgdata/pg_xact/0000"].IsRelation);
        Assert.False(entries[$"pgdata/base/{db}/PG_VERSION"].IsRelation);
        Assert.False(entries[$"pgdata/base/{db}/pg_filenode.map"].IsRelation);
        Assert.False(entries["pgdata/global/pg_control"].IsRelation);
        Assert.Equal(ClusterEntryKind.Directory, entries["pgdata/pg_wal"].Kind);
        Assert.Equal(ClusterEntryKind.Directory, entries["pgdata/pg_wal/archive_status"].Kind);
    }

    [Fact]
    public void Entries_come_in_tree_order_with_each_directory_right_before_its_contents()
    {
        var (pgdata, _) = RunningClusterCopy();

        var paths = Walk(pgdata).Select(e => e.TreePath).ToList();

        Assert.Equal(paths.Order(TreeOrder.Instance).ToList(), paths);
        Assert.Equal(paths.Count, paths.Distinct(StringComparer.Ordinal).Count());
        for (var i = 1; i < paths.Count; i++)
        {
            var slash = paths[i].LastIndexOf('/');
            var parent = slash < 0 ? "" : paths[i][..slash];
            var p = paths.IndexOf(parent);
            Assert.True(p >= 0 && p < i, $"{paths[i]} comes before its directory {parent}");
            for (var j = p + 1; j < i; j++)
            {
                Assert.True(parent.Length == 0 || paths[j].StartsWith(parent + "/", StringComparison.Ordinal), $"{paths[j]} lies between {parent} and its entry {paths[i]}");
            }
        }
    }

    [Fact]
    public void A_pg_wal_symlinked_elsewhere_is_backed_up_as_an_empty_directory_with_archive_status()
    {
        var pgdata = SmallDataDirectory();
        var walStore = _dir.Combine("wal-store");
        Directory.Move(Path.Combine(pgdata, "pg_wal"), walStore);
        File.CreateSymbolicLink(Path.Combine(pgdata, "pg_wal"), walStore);

        var entries = Walk(pgdata).Where(e => e.TreePath.StartsWith("pgdata/pg_wal", StringComparison.Ordinal)).ToList();

        Assert.Equal(["pgdata/pg_wal", "pgdata/pg_wal/archive_status"], entries.Select(e => e.TreePath).ToArray());
        Assert.All(entries, e => Assert.Equal(ClusterEntryKind.Directory, e.Kind));
        Assert.Null(entries[0].LinkTarget);
    }

    [Fact]
    public void A_tablespace_is_walked_under_its_oid_with_the_same_rules_as_the_data_directory()
    {
        var pgdata = SmallDataDirectory();
        var location = _dir.Dir("ts1");
        var db = Path.Combine(location, "PG_15_202209061", "16384");
        Directory.CreateDirectory(db);
        Directory.CreateDirectory(Path.Combine(location, "PG_15_202209061", "pgsql_tmp"));
        File.WriteAllBytes(Path.Combine(location, "PG_15_202209061", "pgsql_tmp", "pgsql_tmp77.0"), [1]);
        foreach (var name in new[] { "16385", "16385.1", "16385_fsm", "t2_99", "16390", "16390_fsm", "16390_init", "PG_VERSION" })
        {
            File.WriteAllBytes(Path.Combine(db, name), [1]);
        }

        File.CreateSymbolicLink(Path.Combine(pgdata, "pg_tblspc", "16500"), location);
        var problems = new List<string>();

        var entries = ClusterLayout.Walk(pgdata, [new Tablespace(16500, "ts1", location)], problems).ToDictionary(e => e.TreePath, StringComparer.Ordinal);

        Assert.Empty(problems);
        var link = entries["pgdata/pg_tblspc/16500"];
        Assert.Equal((ClusterEntryKind.Symlink, location), (link.Kind, link.LinkTarget));
        var prefix = "tablespaces/16500/PG_15_202209061/16384/";
        Assert.Equal(
            ["tablespaces", "tablespaces/16500", "tablespaces/16500/PG_15_202209061", "tablespaces/16500/PG_15_202209061/16384", prefix + "16385", prefix + "16385.1", prefix + "16385_fsm", prefix + "16390_init", prefix + "PG_VERSION"],
            entries.Keys.Where(k => k.StartsWith("tablespaces", StringComparison.Ordinal)).ToArray());
        Assert.Equal((true, 1u), (entries[prefix + "16385.1"].IsRelation, entries[prefix + "16385.1"].Segment));
        Assert.True(entries[prefix + "16390_init"].IsRelation);
        Assert.False(entries[prefix + "PG_VERSION"].IsRelation);
        Assert.Equal(location, entries["tablespaces/16500"].FullPath);
    }

    [Fact]
    public void A_tablespace_whose_location_is_gone_is_reported_as_a_problem()
    {
        var pgdata = SmallDataDirectory();
        var location = _dir.Combine("gone");
        var problems = new List<string>();

        var entries = ClusterLayout.Walk(pgdata, [new Tablespace(16501, "archive_ts", location)], problems);

        Assert.Equal([$"tablespace archive_ts (16501): its location {location} does not exist"], problems);
        Assert.DoesNotContain(entries, e => e.TreePath.StartsWith("tablespaces/", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_data_directory_is_bad_input()
    {
        var pgdata = _dir.Combine("nothing");

        var ex = Assert.Throws<LifeboatException>(() => ClusterLayout.Walk(pgdata, [], []));

        Assert.Equal($"the data directory {pgdata} does not exist", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }
}
