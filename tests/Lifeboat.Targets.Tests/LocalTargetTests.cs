using Lifeboat.Core;
using Lifeboat.Targets.Local;

namespace Lifeboat.Targets.Tests;

/// <summary>What only a local directory does: temp files, its root, permissions, a full disk.</summary>
public sealed class LocalTargetTests : IDisposable
{
    private const string NoSpaceHint = "free space on the target or move the repository, then run the command again; the repository is consistent";
    private static string AccessDeniedHint(string operation) => $"let '{Environment.UserName}' {operation} it (chown or chmod the repository's directories: archive_command writes the WAL as the PostgreSQL OS user), or run lifeboat as a user that may";

    private readonly TempDir _dir = new("lifeboat-local-target-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    private LocalTarget NewTarget() => new LocalTarget(_dir.Combine("repo")).WithRootCreated();

    private static string[] TempFilesBelow(string directory)
        => Directory.EnumerateFiles(directory, "*.tmp-*", SearchOption.AllDirectories).ToArray();

    [Fact]
    public void A_local_target_describes_itself_as_a_file_URL_and_stages_files_below_its_root()
    {
        var target = new LocalTarget(_dir.Combine("repo", "..", "repo"));

        Assert.Equal(_dir.Combine("repo"), target.Root);
        Assert.Equal($"file://{_dir.Combine("repo")}", target.DisplayName);
        Assert.Equal(new TargetCapabilities(AtomicCreate: true, DefaultConcurrency: 4, IsLocal: true, SpoolDirectory: _dir.Combine("repo", "tmp")), target.Capabilities);
    }

    [Fact]
    public async Task Listing_ignores_temporary_files_of_other_writers()
    {
        var target = NewTarget();
        await target.SaveAsync("data/ab/ab01", ObjectSource.FromBytes(TestData.Random(10, seed: 1)), SaveMode.Create, Ct);
        Directory.CreateDirectory(Path.Combine(target.Root, "tmp"));
        await File.WriteAllBytesAsync(Path.Combine(target.Root, "config.tmp-0a1b2c3d4e5f"), [1, 2, 3], Ct);
        await File.WriteAllBytesAsync(Path.Combine(target.Root, "data", "ab", "ab02.tmp-ffffffffffff"), [1, 2, 3], Ct);
        await File.WriteAllBytesAsync(Path.Combine(target.Root, "tmp", "5f0e1a2b3c4d5e6f.tmp-pack"), [1, 2, 3], Ct);

        var all = await target.ListAllAsync("", Ct);

        Assert.Equal([new ObjectInfo("data/ab/ab01", 10)], all);
        Assert.Empty(await target.ListAllAsync("config", Ct));
        Assert.Equal(["data/ab/ab01"], (await target.ListAllAsync("data/ab/", Ct)).Select(o => o.Name));
    }

    [Fact]
    public async Task A_temp_file_left_by_a_crashed_writer_does_not_block_a_create()
    {
        var target = NewTarget();
        await File.WriteAllBytesAsync(Path.Combine(target.Root, "config.tmp-0a1b2c3d4e5f"), [1, 2, 3], Ct);
        var bytes = TestData.Random(100, seed: 2);

        await target.SaveAsync("config", ObjectSource.FromBytes(bytes), SaveMode.Create, Ct);

        Assert.Equal(bytes, await target.ReadAllAsync("config", Ct));
    }

    [Fact]
    public async Task Saving_creates_the_directories_an_object_name_needs()
    {
        var target = NewTarget();

        await target.SaveAsync("wal/main/0000000100000000/000000010000000000000001", ObjectSource.FromBytes(new byte[] { 42 }), SaveMode.Create, Ct);

        Assert.Equal([42], await File.ReadAllBytesAsync(Path.Combine(target.Root, "wal", "main", "0000000100000000", "000000010000000000000001"), Ct));
        Assert.Empty(TempFilesBelow(target.Root));
    }

    [Fact]
    public async Task A_missing_root_directory_is_not_found_and_names_the_root()
    {
        var root = _dir.Combine("no-such-repo");
        var target = new LocalTarget(root);

        var list = await Assert.ThrowsAsync<TargetException>(() => target.ListAllAsync("", Ct));
        Assert.Equal(TargetErrorKind.NotFound, list.Kind);
        Assert.Equal($"file://{root} does not exist", list.Message);

        var listPrefix = await Assert.ThrowsAsync<TargetException>(() => target.ListAllAsync("data/ab/", Ct));
        Assert.Equal($"file://{root} does not exist", listPrefix.Message);

        var save = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("data/ab/ab01", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct));
        Assert.Equal(TargetErrorKind.NotFound, save.Kind);
        Assert.False(save.IsTransient);
        Assert.Equal($"file://{root} does not exist", save.Message);
        Assert.Equal("create the directory or check the repository URL", save.Hint);

        var load = await Assert.ThrowsAsync<TargetException>(() => target.ReadAllAsync("config", Ct));
        Assert.Equal(TargetErrorKind.NotFound, load.Kind);
        Assert.Equal($"file://{root}/config does not exist", load.Message);

        Assert.Null(await target.StatAsync("config", Ct));

        // A mistyped repository path must not quietly become a new repository.
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public async Task A_read_past_the_end_names_the_object_its_size_and_the_range()
    {
        var target = NewTarget();
        await target.SaveAsync("data/ab/ab01", ObjectSource.FromBytes(TestData.Random(10, seed: 3)), SaveMode.Create, Ct);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.ReadRangeAsync("data/ab/ab01", 8, 5, Ct));

        Assert.Equal($"file://{target.Root}/data/ab/ab01 is 10 bytes, cannot read 5 bytes at offset 8", error.Message);
        Assert.Equal(TargetErrorKind.Other, error.Kind);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Creating_an_existing_object_names_it_in_the_error()
    {
        var target = NewTarget();
        await target.SaveAsync("keys/k1", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("keys/k1", ObjectSource.FromBytes(new byte[] { 2 }), SaveMode.Create, Ct));

        Assert.Equal($"file://{target.Root}/keys/k1 already exists", error.Message);
        Assert.Equal(ErrorCode.TargetFailed, error.Code);
        Assert.Empty(TempFilesBelow(target.Root));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("data/../../escape")]
    [InlineData("/etc/escape")]
    [InlineData("data\\escape")]
    [InlineData("")]
    public async Task A_name_that_could_leave_the_root_is_refused(string name)
    {
        var target = NewTarget();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => target.SaveAsync(name, ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct));

        Assert.Equal($"invalid object name '{name}' (Parameter 'name')", error.Message);
        Assert.Equal(["repo"], Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName));
        Assert.Empty(Directory.EnumerateFileSystemEntries(target.Root));
    }

    [Fact]
    public async Task Saving_a_file_from_the_spool_directory_moves_it_into_place()
    {
        var target = NewTarget();
        var spool = Directory.CreateDirectory(target.Capabilities.SpoolDirectory!).FullName;
        var staged = Path.Combine(spool, "5f0e1a2b3c4d5e6f.tmp-pack");
        var bytes = TestData.Random(200_000, seed: 4);
        await File.WriteAllBytesAsync(staged, bytes, Ct);

        await target.SaveFileAsync("data/5f/5f0e", staged, SaveMode.Create, Ct);

        Assert.False(File.Exists(staged));
        Assert.Equal(bytes, await target.ReadAllAsync("data/5f/5f0e", Ct));
        Assert.Equal(["data/5f/5f0e"], (await target.ListAllAsync("", Ct)).Select(o => o.Name));
    }

    [Fact]
    public async Task A_root_written_with_a_trailing_slash_is_the_same_root()
    {
        var target = new LocalTarget(_dir.Combine("repo") + "/").WithRootCreated();
        var staged = Path.Combine(Directory.CreateDirectory(target.Capabilities.SpoolDirectory!).FullName, "5f0e1a2b3c4d5e6f.tmp-pack");
        await File.WriteAllBytesAsync(staged, TestData.Random(1000, seed: 13), Ct);

        await target.SaveFileAsync("data/5f/5f0e", staged, SaveMode.Create, Ct);

        Assert.Equal(_dir.Combine("repo"), target.Root);
        Assert.Equal($"file://{_dir.Combine("repo")}", target.DisplayName);
        // Moved, not copied: the spool is below the root.
        Assert.False(File.Exists(staged));
        var error = await Assert.ThrowsAsync<TargetException>(() => target.ReadAllAsync("config", Ct));
        Assert.Equal($"file://{_dir.Combine("repo")}/config does not exist", error.Message);
    }

    [Fact]
    public async Task Saving_a_spooled_file_under_an_existing_name_fails_and_leaves_both_files()
    {
        var target = NewTarget();
        var old = TestData.Random(100, seed: 5);
        await target.SaveAsync("data/5f/5f0e", ObjectSource.FromBytes(old), SaveMode.Create, Ct);
        var spool = Directory.CreateDirectory(target.Capabilities.SpoolDirectory!).FullName;
        var staged = Path.Combine(spool, "5f0e1a2b3c4d5e6f.tmp-pack");
        await File.WriteAllBytesAsync(staged, TestData.Random(200, seed: 6), Ct);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveFileAsync("data/5f/5f0e", staged, SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.AlreadyExists, error.Kind);
        Assert.Equal($"file://{target.Root}/data/5f/5f0e already exists", error.Message);
        Assert.Equal(old, await target.ReadAllAsync("data/5f/5f0e", Ct));
        // The caller owns the staged file and deletes it.
        Assert.True(File.Exists(staged));
    }

    [Fact]
    public async Task Saving_a_file_from_elsewhere_copies_it()
    {
        var target = NewTarget();
        using var elsewhere = new TempDir();
        var path = elsewhere.Combine("pack.tmp-pack");
        var bytes = TestData.Random(1000, seed: 7);
        await File.WriteAllBytesAsync(path, bytes, Ct);

        await target.SaveFileAsync("data/5f/5f0e", path, SaveMode.Create, Ct);

        Assert.Equal(bytes, await target.ReadAllAsync("data/5f/5f0e", Ct));
        Assert.Empty(TempFilesBelow(target.Root));
    }

    [Fact]
    public async Task Removing_stale_temp_files_removes_only_temp_files_older_than_the_cut_off()
    {
        var target = NewTarget();
        var cutOff = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        var stale = new[] { Path.Combine(target.Root, "config.tmp-000000000001"), Path.Combine(target.Root, "data", "ab", "ab01.tmp-000000000002"), Path.Combine(target.Root, "tmp", "pack1.tmp-pack") };
        var fresh = Path.Combine(target.Root, "data", "ab", "ab02.tmp-000000000003");
        var objectFile = Path.Combine(target.Root, "data", "ab", "ab03");
        foreach (var path in stale.Append(fresh).Append(objectFile))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, [1], Ct);
        }

        foreach (var path in stale.Append(objectFile))
        {
            File.SetLastWriteTimeUtc(path, cutOff.UtcDateTime.AddHours(-1));
        }

        File.SetLastWriteTimeUtc(fresh, cutOff.UtcDateTime.AddMinutes(1));

        var removed = target.RemoveStaleTempFiles(cutOff);

        Assert.Equal(3, removed);
        Assert.All(stale, path => Assert.False(File.Exists(path), path));
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(objectFile));
    }

    [Fact]
    public void Removing_stale_temp_files_of_a_missing_root_removes_nothing()
    {
        var target = new LocalTarget(_dir.Combine("no-such-repo"));

        Assert.Equal(0, target.RemoveStaleTempFiles(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public async Task Writing_into_a_directory_without_write_permission_is_AccessDenied()
    {
        var target = NewTarget();
        var data = Directory.CreateDirectory(Path.Combine(target.Root, "data", "ab")).FullName;
        await target.SaveAsync("data/ab/ab01", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct);
        await using var denied = await DenyWritesAsync(data);

        var save = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("data/ab/ab02", ObjectSource.FromBytes(new byte[] { 2 }), SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.AccessDenied, save.Kind);
        Assert.False(save.IsTransient);
        Assert.Equal($"permission denied: OS user '{Environment.UserName}' cannot write {target.Root}/data/ab/ab02", save.Message);
        Assert.Equal(AccessDeniedHint("write"), save.Hint);
        Assert.Equal(ErrorCode.Config, save.Code);
        Assert.Equal(2, save.ExitCode);

        var delete = await Assert.ThrowsAsync<TargetException>(() => target.DeleteAsync("data/ab/ab01", Ct));
        Assert.Equal(TargetErrorKind.AccessDenied, delete.Kind);
        Assert.Equal($"permission denied: OS user '{Environment.UserName}' cannot delete {target.Root}/data/ab/ab01", delete.Message);

        Assert.Empty(TempFilesBelow(target.Root));
    }

    [Fact]
    public async Task Reading_a_file_without_read_permission_is_AccessDenied()
    {
        if (Peers.IsRoot)
        {
            Assert.Skip("root reads every file whatever its mode (CAP_DAC_OVERRIDE) and no file attribute denies reads; run the tests as an ordinary user to cover this");
        }

        var target = NewTarget();
        await target.SaveAsync("config", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct);
        File.SetUnixFileMode(Path.Combine(target.Root, "config"), UnixFileMode.None);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.ReadAllAsync("config", Ct));

        Assert.Equal(TargetErrorKind.AccessDenied, error.Kind);
        Assert.Equal($"permission denied: OS user '{Environment.UserName}' cannot read {target.Root}/config", error.Message);
    }

    [Fact]
    public async Task A_save_that_fills_the_disk_fails_with_NoSpace_and_leaves_nothing_behind()
    {
        await using var tmpfs = await Tmpfs.MountOrSkipAsync("4m", Ct);
        var target = new LocalTarget(Path.Combine(tmpfs.MountPoint, "repo")).WithRootCreated();

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("data/ab/big", ObjectSource.FromBytes(TestData.Random(8 << 20, seed: 8)), SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.NoSpace, error.Kind);
        Assert.False(error.IsTransient);
        Assert.Equal($"cannot write file://{target.Root}/data/ab/big: no space left on the device", error.Message);
        Assert.Equal(NoSpaceHint, error.Hint);
        Assert.Equal(ErrorCode.NoSpace, error.Code);
        Assert.Equal(2, error.ExitCode);
        Assert.Null(await target.StatAsync("data/ab/big", Ct));
        Assert.Empty(await target.ListAllAsync("", Ct));
        Assert.Empty(TempFilesBelow(tmpfs.MountPoint));

        // The partial temp file is gone, so its space is free again.
        var small = TestData.Random(1 << 20, seed: 9);
        await target.SaveAsync("data/ab/small", ObjectSource.FromBytes(small), SaveMode.Create, Ct);
        Assert.Equal(small, await target.ReadAllAsync("data/ab/small", Ct));
    }

    [Fact]
    public async Task A_replace_that_fills_the_disk_keeps_the_old_object()
    {
        await using var tmpfs = await Tmpfs.MountOrSkipAsync("4m", Ct);
        var target = new LocalTarget(Path.Combine(tmpfs.MountPoint, "repo")).WithRootCreated();
        var old = TestData.Random(1 << 20, seed: 10);
        await target.SaveAsync("locks/l1", ObjectSource.FromBytes(old), SaveMode.Create, Ct);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("locks/l1", ObjectSource.FromBytes(TestData.Random(4 << 20, seed: 11)), SaveMode.Replace, Ct));

        Assert.Equal(TargetErrorKind.NoSpace, error.Kind);
        Assert.Equal(old, await target.ReadAllAsync("locks/l1", Ct));
        Assert.Empty(TempFilesBelow(tmpfs.MountPoint));
    }

    [Fact]
    public async Task A_spooled_file_copied_onto_a_full_disk_fails_with_NoSpace_and_leaves_nothing_behind()
    {
        await using var tmpfs = await Tmpfs.MountOrSkipAsync("4m", Ct);
        var target = new LocalTarget(Path.Combine(tmpfs.MountPoint, "repo")).WithRootCreated();
        using var elsewhere = new TempDir();
        var path = elsewhere.Combine("pack.tmp-pack");
        await File.WriteAllBytesAsync(path, TestData.Random(8 << 20, seed: 12), Ct);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveFileAsync("data/5f/5f0e", path, SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.NoSpace, error.Kind);
        Assert.Null(await target.StatAsync("data/5f/5f0e", Ct));
        Assert.Empty(TempFilesBelow(tmpfs.MountPoint));
    }

    /// <summary>
    /// Makes <paramref name="directory"/> refuse new entries and removals. Root ignores permission bits, so as root the
    /// directory is made immutable (chattr +i), which binds root too; otherwise its write bits are removed.
    /// </summary>
    private static async Task<IAsyncDisposable> DenyWritesAsync(string directory)
    {
        if (!Peers.IsRoot)
        {
            var mode = File.GetUnixFileMode(directory);
            File.SetUnixFileMode(directory, mode & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
            return new Undo(() =>
            {
                File.SetUnixFileMode(directory, mode);
                return Task.CompletedTask;
            });
        }

        var (code, output) = await Programs.RunAsync("chattr", ["+i", directory], Ct);
        if (code != 0)
        {
            Assert.Skip($"running as root, and chattr +i (the only way to deny root a write) failed on {directory}: {output.Trim()}");
        }

        return new Undo(async () =>
        {
            var (undoCode, undoOutput) = await Programs.RunAsync("chattr", ["-i", directory], CancellationToken.None);
            Assert.True(undoCode == 0, $"chattr -i {directory} failed: {undoOutput}");
        });
    }

    private sealed class Undo(Func<Task> undo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await undo();
    }
}
