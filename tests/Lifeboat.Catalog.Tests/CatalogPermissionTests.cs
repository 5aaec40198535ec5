using Microsoft.Data.Sqlite;

namespace Lifeboat.Catalog.Tests;

/// <summary>Issue 19, item 8: the SQLite catalog and its -wal/-shm files are readable by their owner only.</summary>
public sealed class CatalogPermissionTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    [Fact]
    public async Task A_new_catalog_and_its_wal_files_are_0600()
    {
        using var dir = new TempDir();
        var path = dir.Combine("lifeboat.db");
        await LifeboatCatalog.OpenSqliteAsync(path, TimeProvider.System, TestContext.Current.CancellationToken);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "CREATE TABLE probe (x INTEGER); INSERT INTO probe VALUES (1)";
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        Assert.True(File.Exists(path + "-wal"), "SQLite runs in WAL mode");
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            Assert.True(File.GetUnixFileMode(file) == Private, $"{file} is {Octal(File.GetUnixFileMode(file))}");
        }
    }

    [Fact]
    public async Task An_existing_catalog_readable_by_others_is_made_0600_when_opened()
    {
        using var dir = new TempDir();
        var path = dir.Combine("lifeboat.db");
        await LifeboatCatalog.OpenSqliteAsync(path, TimeProvider.System, TestContext.Current.CancellationToken);
        File.SetUnixFileMode(path, (UnixFileMode)0b110_100_100);
        await LifeboatCatalog.OpenSqliteAsync(path, TimeProvider.System, TestContext.Current.CancellationToken);
        Assert.True(File.GetUnixFileMode(path) == Private, $"{path} is {Octal(File.GetUnixFileMode(path))}");
    }
}
