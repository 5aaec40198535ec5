using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Repository.Maintenance;
using Lifeboat.Repository.Writing;

namespace Lifeboat.Engine.Tests;

/// <summary>
/// Files that change while they are read, or vanish between the listing and the read (issue 19, item 4). The changes
/// are made by the backup's own seams (after a file's content was read, before it is opened), so nothing races.
/// </summary>
public sealed class ChangingFilesBackupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<BackupOutcome> BackupAsync(EngineFixture f, Func<string, int, ValueTask>? afterRead = null, Func<string, int, ValueTask>? beforeOpen = null)
    {
        await using var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct);
        var backup = new FilesBackup(repo, "app", new FilesSourceOptions { Path = f.Source }) { AfterRead = afterRead, BeforeOpen = beforeOpen };
        return await backup.RunAsync(new BackupRequest { Writer = new WriterOptions { Workers = 2 } }, null, Ct);
    }

    private static async Task<string> RestoreAsync(EngineFixture f, string backup)
    {
        var to = f.Dir.Combine("restored-" + backup);
        await f.Use<RestoreSource>().ExecuteAsync(new RestoreSourceRequest { Source = "app", To = to, Backup = backup }, Ct);
        return to;
    }

    private static async Task AssertRepositoryVerifiesAsync(EngineFixture f)
    {
        await using var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct);
        Assert.True((await new Verifier(repo).VerifyAsync(new VerifyOptions { ReadData = true }, null, Ct)).IsHealthy);
    }

    [Fact]
    public async Task A_file_written_while_it_is_read_is_read_again_and_stored_as_it_is_now()
    {
        using var f = new EngineFixture(createTree: false);
        var log = Path.Combine(f.Source, "app.log");
        File.WriteAllBytes(log, TestData.Text(3_000_000, 1));
        var reads = 0;

        var outcome = await BackupAsync(f, afterRead: (path, attempt) =>
        {
            reads++;
            if (path == log && attempt == 1)
            {
                File.AppendAllText(log, "a line written during the read\n");
            }

            return ValueTask.CompletedTask;
        });

        Assert.Equal(2, reads);
        Assert.Empty(outcome.Problems);
        Assert.Empty(outcome.Changed);
        Assert.Null(outcome.Manifest.Tags);
        Assert.Equal(File.ReadAllBytes(log), File.ReadAllBytes(Path.Combine(await RestoreAsync(f, outcome.Manifest.Id), "app.log")));

        // The metadata recorded is the second read's: the next backup trusts it and reads nothing.
        var next = await BackupAsync(f);
        Assert.Equal(0, next.Manifest.Stats.BytesRead);
        Assert.Equal(1, next.Manifest.Stats.UnchangedFiles);
    }

    [Fact]
    public async Task A_file_written_during_both_reads_is_kept_as_read_named_as_changed_and_read_again_next_time()
    {
        using var f = new EngineFixture(createTree: false);
        var log = Path.Combine(f.Source, "busy.log");
        var quiet = Path.Combine(f.Source, "quiet.txt");
        File.WriteAllText(log, "first\n");
        File.WriteAllText(quiet, "unchanged\n");
        string? secondRead = null;

        var outcome = await BackupAsync(f, afterRead: (path, attempt) =>
        {
            if (path == log)
            {
                secondRead = attempt == 2 ? File.ReadAllText(log) : secondRead;
                File.AppendAllText(log, $"written during read {attempt}\n");
            }

            return ValueTask.CompletedTask;
        });

        Assert.Equal(["busy.log"], outcome.Changed);
        Assert.Equal(["busy.log: changed while it was read, twice; stored as the second read found it, which may mix old and new content"], outcome.Problems);
        Assert.Equal("1 file(s) changed while they were read", outcome.Manifest.Tags![FilesBackup.ChangedField]);
        Assert.Equal("[\"busy.log\"]", outcome.Manifest.Details![FilesBackup.ChangedField]!.ToJsonString());
        Assert.False(outcome.Manifest.Tags.ContainsKey("incomplete"));

        // Kept and restorable: the file as the second read found it, the rest as it is.
        var restored = await RestoreAsync(f, outcome.Manifest.Id);
        Assert.Equal("first\nwritten during read 1\n", secondRead);
        Assert.Equal(secondRead, File.ReadAllText(Path.Combine(restored, "busy.log")));
        Assert.Equal("unchanged\n", File.ReadAllText(Path.Combine(restored, "quiet.txt")));
        await AssertRepositoryVerifiesAsync(f);

        // The next backup does not trust the torn copy: it reads the file again and stores it whole.
        var next = await BackupAsync(f);
        Assert.Empty(next.Problems);
        Assert.Equal(new FileInfo(log).Length, next.Manifest.Stats.BytesRead);
        Assert.Equal(File.ReadAllText(log), File.ReadAllText(Path.Combine(await RestoreAsync(f, next.Manifest.Id), "busy.log")));
    }

    [Fact]
    public async Task A_file_replaced_between_the_listing_and_the_read_is_stored_with_its_new_content_and_metadata()
    {
        using var f = new EngineFixture(createTree: false);
        var config = Path.Combine(f.Source, "settings.json");
        File.WriteAllText(config, "{\"v\":1}");

        var outcome = await BackupAsync(f, beforeOpen: (path, attempt) =>
        {
            if (path == config && attempt == 1)
            {
                // An editor's save: a new file renamed over the old one (same size, another inode).
                File.WriteAllText(config + ".new", "{\"v\":2}");
                File.Move(config + ".new", config, overwrite: true);
            }

            return ValueTask.CompletedTask;
        });

        Assert.Empty(outcome.Problems);
        Assert.Equal("{\"v\":2}", File.ReadAllText(Path.Combine(await RestoreAsync(f, outcome.Manifest.Id), "settings.json")));
        Assert.Equal(0, (await BackupAsync(f)).Manifest.Stats.BytesRead);
    }

    [Fact]
    public async Task A_file_that_vanishes_before_it_is_opened_is_named_and_the_rest_is_kept()
    {
        using var f = new EngineFixture(createTree: false);
        var upload = Path.Combine(f.Source, "upload.tmp");
        File.WriteAllText(upload, "half an upload");
        File.WriteAllText(Path.Combine(f.Source, "kept.txt"), "kept");

        var outcome = await BackupAsync(f, beforeOpen: (path, attempt) =>
        {
            if (path == upload)
            {
                File.Delete(upload);
            }

            return ValueTask.CompletedTask;
        });

        Assert.Equal(["upload.tmp"], outcome.Vanished);
        Assert.Equal(["upload.tmp: vanished before it could be read; not in the backup"], outcome.Problems);
        Assert.Equal("1 file(s) vanished before they could be read", outcome.Manifest.Tags![FilesBackup.VanishedField]);
        Assert.Equal("[\"upload.tmp\"]", outcome.Manifest.Details![FilesBackup.VanishedField]!.ToJsonString());
        var restored = await RestoreAsync(f, outcome.Manifest.Id);
        Assert.Equal("kept", File.ReadAllText(Path.Combine(restored, "kept.txt")));
        Assert.False(File.Exists(Path.Combine(restored, "upload.tmp")));
        await AssertRepositoryVerifiesAsync(f);
    }

    [Fact]
    public async Task A_file_deleted_after_its_directory_was_listed_is_named_not_skipped_in_silence()
    {
        using var f = new EngineFixture(createTree: false);
        Directory.CreateDirectory(Path.Combine(f.Source, "d"));
        File.WriteAllText(Path.Combine(f.Source, "d", "a"), "a");
        File.WriteAllText(Path.Combine(f.Source, "d", "b"), "b");
        File.WriteAllText(Path.Combine(f.Source, "d", "b.swp"), "excluded, so it may come and go");

        // The walker lists d, yields a (read here), and only then looks at b and b.swp.
        await using var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct);
        var backup = new FilesBackup(repo, "app", new FilesSourceOptions { Path = f.Source, Exclude = ["*.swp"] })
        {
            BeforeOpen = (path, _) =>
            {
                if (path.EndsWith("/d/a", StringComparison.Ordinal))
                {
                    File.Delete(Path.Combine(f.Source, "d", "b"));
                    File.Delete(Path.Combine(f.Source, "d", "b.swp"));
                }

                return ValueTask.CompletedTask;
            },
        };
        var outcome = await backup.RunAsync(new BackupRequest(), null, Ct);

        Assert.Equal(["d/b"], outcome.Vanished);
        Assert.Equal(["d/b: vanished before it could be read; not in the backup"], outcome.Problems);
    }

    [Fact]
    public void A_backup_committed_with_problems_is_a_warning_event_and_a_clean_one_is_info()
    {
        RunFinished Finished(string status, string? metadata, string operation = RunOperations.Backup)
            => new("r1", operation, "incr", "app", null, status, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1, 1, "b1", null, metadata);

        Assert.Equal(EventSeverity.Warning, Finished(Catalog.RunStatus.Succeeded, "[\"busy.log: changed while it was read, twice\"]").Severity);
        Assert.Equal("backup.completed", Finished(Catalog.RunStatus.Succeeded, "[\"x\"]").Type);
        Assert.Equal(EventSeverity.Info, Finished(Catalog.RunStatus.Succeeded, null).Severity);
        Assert.Equal(EventSeverity.Error, Finished(Catalog.RunStatus.Failed, null).Severity);
        Assert.Equal(EventSeverity.Info, Finished(Catalog.RunStatus.Succeeded, "{\"deleted\":2}", RunOperations.Expire).Severity);
    }
}
