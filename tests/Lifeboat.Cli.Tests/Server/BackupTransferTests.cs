using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lifeboat.Platform;
using Lifeboat.Engine.Demo;
using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// Downloading a backup as a stream and uploading an external one, through HTTP on a real server, checked with
/// PostgreSQL's own pg_dump and pg_restore and GNU tar.
/// </summary>
public sealed class BackupTransferTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Tables = ["customers", "orders"];

    [Fact]
    public async Task A_database_backup_downloads_as_a_dump_pg_restore_loads_and_a_pg_dump_file_uploads_as_a_restorable_backup()
    {
        await using var f = await ClusterFixture.StartAsync(archiving: false);
        var db = f.Cluster;
        await f.ExecAsync("create database shop");
        await db.ExecuteAsync(
            """
            create table customers (id int primary key, name text not null);
            create table orders (id bigserial primary key, customer_id int not null references customers, amount numeric(12,2));
            insert into customers select g, 'customer ' || g from generate_series(1, 1500) g;
            insert into orders (customer_id, amount) select 1 + g % 1500, (g * 7919 % 100000) / 100.0 from generate_series(1, 20000) g;
            """,
            Ct,
            "shop");
        await f.OkAsync("source", "add-database", "shop", "--conn", db.ConnectionString("shop"), "--database", "shop");
        var backup = JsonDocument.Parse((await f.OkAsync("backup", "--source", "shop", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        await using var server = await ServerFixture.StartAsync(f.Dir, f.Cli);
        using var http = server.Client("operator");
        var pg = PgBinaries.Process;

        // Download: a tar of the directory-format dump, which PostgreSQL's own pg_restore loads into a new database.
        using (var response = await http.GetAsync(new Uri($"/api/v1/backups/{backup}/download", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/x-tar", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal($"{backup}-shop.dump.tar", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            await using var file = File.Create(f.Dir.Combine("download.tar"));
            await response.Content.CopyToAsync(file, Ct);
        }

        var extracted = f.Dir.Combine("extracted");
        Directory.CreateDirectory(extracted);
        await RunOkAsync("tar", ["-xf", f.Dir.Combine("download.tar"), "-C", extracted], new Dictionary<string, string>());
        await f.ExecAsync("create database shop_dl");
        await RunOkAsync(pg.Client("pg_restore"), ["-d", "shop_dl", "--exit-on-error", Path.Combine(extracted, "dump")], PgConnection.Own(db.ConnectionString("shop_dl")).LibpqEnvironment());
        await AssertSameRowsAsync(db, "shop", "shop_dl");

        // Upload: a pg_dump -Fc file made by pg_dump itself becomes a backup of the source, restorable like any other.
        var dumpFile = f.Dir.Combine("shop.dump");
        await RunOkAsync(pg.Client("pg_dump"), ["-Fc", "-f", dumpFile, "shop"], PgConnection.Own(db.ConnectionString("shop")).LibpqEnvironment());
        var uploaded = await UploadAsync(http, "shop", "custom", dumpFile);
        Assert.Equal("true", uploaded.GetProperty("tags").GetProperty("uploaded").GetString());
        Assert.Equal("database", uploaded.GetProperty("kind").GetString());
        var uploadedId = uploaded.GetProperty("id").GetString()!;
        await f.OkAsync("restore", "--source", "shop", "--backup", uploadedId, "--into", "shop_up");
        await AssertSameRowsAsync(db, "shop", "shop_up");
        await AssertDrillPassesAsync(f, uploadedId, "loaded by pg_restore --exit-on-error");
        Assert.Contains(uploadedId, (await f.OkAsync("list", "--source", "shop")).Out, StringComparison.Ordinal);

        // The uploaded dump downloads as the very file it was, with its length known.
        using (var response = await http.GetAsync(new Uri($"/api/v1/backups/{uploadedId}/download", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(new FileInfo(dumpFile).Length, response.Content.Headers.ContentLength);
            Assert.Equal(await File.ReadAllBytesAsync(dumpFile, Ct), await response.Content.ReadAsByteArrayAsync(Ct));
        }

        // A downloaded logical backup uploads again as a directory-format dump in a tar.
        var again = await UploadAsync(http, "shop", "directory-tar", f.Dir.Combine("download.tar"));
        await f.OkAsync("restore", "--source", "shop", "--backup", again.GetProperty("id").GetString()!, "--into", "shop_again");
        await AssertSameRowsAsync(db, "shop", "shop_again");

        // Not a dump: 400 naming the body, and no new backup.
        var manifests = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Count();
        await File.WriteAllTextAsync(f.Dir.Combine("junk.dump"), "this is not a dump\n", Ct);
        foreach (var format in new[] { "custom", "directory-tar" })
        {
            using var bad = await PostFileAsync(http, $"/api/v1/backups/uploads?source=shop&format={format}", f.Dir.Combine("junk.dump"));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.True(problem.GetProperty("errors").TryGetProperty("body", out _), problem.ToString());
        }

        using (var wrongFormat = await PostFileAsync(http, "/api/v1/backups/uploads?source=shop&format=tar", dumpFile))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrongFormat.StatusCode);
            Assert.Contains("format", await wrongFormat.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal(manifests, Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Count());

        // Unknown ids: a well-formed one is 404, a malformed one 400, both problem documents.
        using (var missing = await http.GetAsync(new Uri("/api/v1/backups/20200101-000000-abcd/download", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        }

        using (var malformed = await http.GetAsync(new Uri("/api/v1/backups/nope/download", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        // Downloading data is `operate`: a viewer may not.
        using var viewer = server.Client("viewer");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync(new Uri($"/api/v1/backups/{backup}/download", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task A_files_backup_downloads_as_a_tar_of_the_same_tree_a_tar_uploads_as_a_backup_and_a_damaged_chunk_truncates_the_download()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        Directory.CreateDirectory(Path.Combine(cli.Source, "empty"));
        File.CreateSymbolicLink(Path.Combine(cli.Source, "dangling"), "no/such/target");

        // A downloaded tar keeps modification times to 100 ns (System.Formats.Tar's precision), so the tree's are so.
        foreach (var path in Directory.EnumerateFileSystemEntries(cli.Source, "*", SearchOption.AllDirectories).OrderByDescending(p => p.Length))
        {
            Unix.SetTimes(path, Unix.Lstat(path)!.Value.MTimeNs / 100 * 100);
        }
        var backup = JsonDocument.Parse((await cli.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        await using var server = await ServerFixture.StartAsync(cli);
        using var http = server.Client("operator");

        var tar = cli.Dir.Combine("app.tar");
        using (var response = await http.GetAsync(new Uri($"/api/v1/backups/{backup}/download", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"{backup}-app.tar", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            Assert.Null(response.Content.Headers.ContentLength);
            await using var file = File.Create(tar);
            await response.Content.CopyToAsync(file, Ct);
        }

        var extracted = cli.Dir.Combine("extracted");
        Directory.CreateDirectory(extracted);
        await RunOkAsync("tar", ["-xpf", tar, "-C", extracted], new Dictionary<string, string>());
        Assert.Empty(TreeComparer.Compare(cli.Source, extracted));

        // A tar made by GNU tar uploads as a backup of the files source; restore brings the same tree back.
        var upload = cli.Dir.Combine("upload.tar");
        await RunOkAsync("tar", ["-cf", upload, "--format=pax", "-C", cli.Source, "."], new Dictionary<string, string>());
        var uploaded = await UploadAsync(http, "app", "tar", upload);
        Assert.Equal("true", uploaded.GetProperty("tags").GetProperty("uploaded").GetString());
        var restored = cli.Dir.Combine("restored");
        await cli.Cli.OkAsync("restore", "--source", "app", "--backup", uploaded.GetProperty("id").GetString()!, "--to", restored);
        Assert.Empty(TreeComparer.Compare(cli.Source, restored));

        var manifests = Directory.EnumerateFiles(Path.Combine(cli.RepoPath, "backups")).Count();
        await File.WriteAllBytesAsync(cli.Dir.Combine("junk.tar"), TestData.Random(5000, 7), Ct);
        using (var bad = await PostFileAsync(http, "/api/v1/backups/uploads?source=app&format=tar", cli.Dir.Combine("junk.tar")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("body", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal(manifests, Directory.EnumerateFiles(Path.Combine(cli.RepoPath, "backups")).Count());

        // Over Server:MaxUploadBytes: 413, and still no new backup.
        var configPath = cli.Dir.Combine("lifeboat.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(configPath, Ct))!.AsObject();
        config["Server"] = new System.Text.Json.Nodes.JsonObject { ["MaxUploadBytes"] = 1000 };
        await File.WriteAllTextAsync(configPath, config.ToJsonString(), Ct);
        using (var tooLarge = await PostFileAsync(http, "/api/v1/backups/uploads?source=app&format=tar", upload))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        }

        Assert.Equal(manifests, Directory.EnumerateFiles(Path.Combine(cli.RepoPath, "backups")).Count());

        // Damage every pack in the middle: the download never completes as a valid transfer.
        foreach (var pack in Directory.EnumerateFiles(Path.Combine(cli.RepoPath, "data"), "*", SearchOption.AllDirectories))
        {
            await using var stream = new FileStream(pack, FileMode.Open, FileAccess.ReadWrite);
            stream.Position = stream.Length / 2;
            var b = stream.ReadByte();
            stream.Position = stream.Length / 2;
            stream.WriteByte((byte)(b ^ 0xFF));
        }

        using var damaged = await http.GetAsync(new Uri($"/api/v1/backups/{backup}/download", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct);
        if (damaged.StatusCode == HttpStatusCode.OK)
        {
            await Assert.ThrowsAnyAsync<IOException>(async () =>
            {
                await using var body = await damaged.Content.ReadAsStreamAsync(Ct);
                await body.CopyToAsync(Stream.Null, Ct);
            });
        }
        else
        {
            Assert.Equal(HttpStatusCode.InternalServerError, damaged.StatusCode);
        }
    }

    [Fact]
    public async Task A_plain_sql_dump_is_told_by_its_content_uploads_compressed_or_not_restores_through_psql_and_downloads_as_the_script()
    {
        await using var f = await SeededShopAsync();
        var db = f.Cluster;
        await using var server = await ServerFixture.StartAsync(f.Dir, f.Cli);
        using var http = server.Client("operator");
        var sql = f.Dir.Combine("shop.sql");
        await RunOkAsync(PgBinaries.Process.Client("pg_dump"), ["-Fp", "-f", sql, "shop"], PgConnection.Own(db.ConnectionString("shop")).LibpqEnvironment());

        // No «format»: the first bytes say it is an SQL script. Restored by the CLI through psql into a new database.
        var uploaded = await UploadAsync(http, "shop", null, sql);
        Assert.Equal("true", uploaded.GetProperty("tags").GetProperty("uploaded").GetString());
        var id = uploaded.GetProperty("id").GetString()!;
        var shown = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/api/v1/backups/{id}", UriKind.Relative), Ct)).RootElement;
        Assert.Equal("plain", shown.GetProperty("details").GetProperty("format").GetString());
        Assert.Equal("shop", shown.GetProperty("details").GetProperty("database").GetString());
        var restored = await f.OkAsync("restore", "--source", "shop", "--backup", id, "--into", "shop_plain");
        Assert.Contains("the SQL script ran with psql in one transaction; the database was created", restored.Out, StringComparison.Ordinal);
        await AssertSameRowsAsync(db, "shop", "shop_plain");

        // A drill proves it as it proves a dump Lifeboat took: loaded by psql into a scratch server, then checked.
        await AssertDrillPassesAsync(f, id, "loaded by psql --single-transaction -v ON_ERROR_STOP=1: the SQL script");

        // It downloads as the very script, with its length.
        using (var response = await http.GetAsync(new Uri($"/api/v1/backups/{id}/download", UriKind.Relative), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/sql", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal($"{id}-shop.sql", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            Assert.Equal(new FileInfo(sql).Length, response.Content.Headers.ContentLength);
            Assert.Equal(await File.ReadAllBytesAsync(sql, Ct), await response.Content.ReadAsByteArrayAsync(Ct));
        }

        // gzip-compressed (by gzip itself), restored through the API as a job; it downloads decompressed.
        await RunOkAsync("gzip", ["-k", sql], new Dictionary<string, string>());
        var gz = await UploadAsync(http, "shop", null, sql + ".gz");
        var gzId = gz.GetProperty("id").GetString()!;
        using (var restore = await http.PostAsJsonAsync(new Uri("/api/v1/restores", UriKind.Relative), new { source = "shop", backup = gzId, into = "shop_gz" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, restore.StatusCode);
            var job = JsonDocument.Parse(await restore.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
            var done = await ServerFixture.FinishedJobAsync(http, job);
            Assert.True(done.GetProperty("state").GetString() == "succeeded", done.GetRawText());
        }

        await AssertSameRowsAsync(db, "shop", "shop_gz");
        Assert.Equal(await File.ReadAllBytesAsync(sql, Ct), await http.GetByteArrayAsync(new Uri($"/api/v1/backups/{gzId}/download", UriKind.Relative), Ct));

        // zstd-compressed (by zstd itself), with a «format» that agrees with the content.
        await RunOkAsync("zstd", ["-q", "-k", sql, "-o", sql + ".zst"], new Dictionary<string, string>());
        var zst = await UploadAsync(http, "shop", "plain", sql + ".zst");
        await f.OkAsync("restore", "--source", "shop", "--backup", zst.GetProperty("id").GetString()!, "--into", "shop_zst");
        await AssertSameRowsAsync(db, "shop", "shop_zst");

        // A plain script cannot be restored table by table: refused before anything is created.
        var tables = await f.RunAsync("restore", "--source", "shop", "--backup", id, "--into", "shop_t", "--table", "orders");
        Assert.Equal(2, tables.ExitCode);
        Assert.Contains("plain SQL script", tables.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await db.QueryAsync<long>("select count(*) from pg_database where datname = 'shop_t'", Ct));
    }

    [Fact]
    public async Task A_file_of_no_accepted_format_is_refused_with_nothing_written_and_a_failing_script_leaves_the_target_as_it_was()
    {
        await using var f = await SeededShopAsync();
        var db = f.Cluster;
        await using var server = await ServerFixture.StartAsync(f.Dir, f.Cli);
        using var http = server.Client("operator");
        var sql = f.Dir.Combine("shop.sql");
        var env = PgConnection.Own(db.ConnectionString("shop")).LibpqEnvironment();
        await RunOkAsync(PgBinaries.Process.Client("pg_dump"), ["-Fp", "-f", sql, "shop"], env);

        // None of the formats: 400 naming what the body is and what a database source takes; the repository unchanged.
        var before = RepositoryFiles(f.RepoPath);
        var png = f.Dir.Combine("picture.sql");
        await File.WriteAllBytesAsync(png, [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. TestData.Random(3000, 3)], Ct);
        var text = f.Dir.Combine("notes.sql");
        await File.WriteAllTextAsync(text, "shopping list: eggs, milk\n", Ct);
        var xz = f.Dir.Combine("shop.sql.xz");
        await File.WriteAllBytesAsync(xz, [0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0, .. TestData.Random(100, 4)], Ct);
        foreach (var (path, found) in new[] { (png, "binary data starting 89 50 4e 47"), (text, "text that does not start with an SQL statement"), (xz, "xz-compressed") })
        {
            using var bad = await PostFileAsync(http, "/api/v1/backups/uploads?source=shop", path);
            var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.True(bad.StatusCode == HttpStatusCode.BadRequest, problem.ToString());
            var body = problem.GetProperty("errors").GetProperty("body")[0].GetString()!;
            Assert.Contains(found, body, StringComparison.Ordinal);
            Assert.Contains("plain SQL script (pg_dump -Fp)", body, StringComparison.Ordinal);
            Assert.Contains("custom-format archive (pg_dump -Fc)", body, StringComparison.Ordinal);
        }

        // A «format» the content contradicts.
        using (var contradicted = await PostFileAsync(http, "/api/v1/backups/uploads?source=shop&format=custom", sql))
        {
            Assert.Equal(HttpStatusCode.BadRequest, contradicted.StatusCode);
            Assert.Contains("is a plain SQL script, not", await contradicted.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal(before, RepositoryFiles(f.RepoPath));

        // A script that connects to a database of its own (pg_dump --create) would write elsewhere: refused, no backup.
        var create = f.Dir.Combine("create.sql");
        await RunOkAsync(PgBinaries.Process.Client("pg_dump"), ["-Fp", "--create", "-f", create, "shop"], env);
        using (var connects = await PostFileAsync(http, "/api/v1/backups/uploads?source=shop", create))
        {
            Assert.Equal(HttpStatusCode.BadRequest, connects.StatusCode);
            Assert.Contains("\\\\connect", await connects.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(f.RepoPath, "backups")) && Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Any());

        // An error half-way (after the first table's rows are in): psql's message, and no database left behind.
        var script = await File.ReadAllTextAsync(sql, Ct);
        var firstCopyEnd = script.IndexOf("\n\\.\n", StringComparison.Ordinal);
        Assert.True(firstCopyEnd > 0);
        var broken = f.Dir.Combine("broken.sql");
        await File.WriteAllTextAsync(broken, script[..(firstCopyEnd + 4)] + "\nINSERT INTO no_such_table VALUES (1);\n" + script[(firstCopyEnd + 4)..], Ct);
        var brokenId = (await UploadAsync(http, "shop", null, broken)).GetProperty("id").GetString()!;
        var failed = await f.RunAsync("restore", "--source", "shop", "--backup", brokenId, "--into", "shop_broken");
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("relation \"no_such_table\" does not exist", failed.Error, StringComparison.Ordinal);
        Assert.Contains("psql", failed.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await db.QueryAsync<long>("select count(*) from pg_database where datname = 'shop_broken'", Ct));

        // Over an existing database («clean» «force»): one transaction, so what ran before the error is rolled back.
        var partial = f.Dir.Combine("partial.sql");
        await File.WriteAllTextAsync(partial, "-- a change that fails half-way\nCREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nDELETE FROM orders;\nUPDATE customers SET name = 'gone';\nSELECT 1 / 0;\nCREATE TABLE never (id int);\n", Ct);
        var partialId = (await UploadAsync(http, "shop", null, partial)).GetProperty("id").GetString()!;
        await f.ExecAsync("create database shop_copy");
        await RunOkAsync(PgBinaries.Process.Client("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", sql], PgConnection.Own(db.ConnectionString("shop_copy")).LibpqEnvironment());
        var overwritten = await f.RunAsync("restore", "--source", "shop", "--backup", partialId, "--into", "shop_copy", "--clean", "--force");
        Assert.Equal(1, overwritten.ExitCode);
        Assert.Contains("division by zero", overwritten.Error, StringComparison.Ordinal);
        await AssertSameRowsAsync(db, "shop", "shop_copy");
        Assert.Equal(0L, await db.QueryAsync<long>("select count(*) from pg_class where relname in ('half', 'never')", Ct, "shop_copy"));
    }

    /// <summary>A drill of the backup: the dump loads into a scratch server and a smoke query sees every order.</summary>
    private static async Task AssertDrillPassesAsync(ClusterFixture f, string backup, string loadedBy)
    {
        var configPath = f.ConfigPath;
        var root = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(configPath, Ct))!.AsObject();
        var scratch = f.Dir.Combine("scratch");
        Directory.CreateDirectory(scratch);
        File.SetUnixFileMode(scratch, (UnixFileMode)0b111_101_101);
        root["Drill"] = new System.Text.Json.Nodes.JsonObject { ["ScratchDirectory"] = scratch, ["ReportsDirectory"] = f.Dir.Combine("reports"), ["Timeout"] = "00:05:00" };
        root["Sources"]!["shop"]!["Drill"] = System.Text.Json.Nodes.JsonNode.Parse("""{ "SmokeQueries": [ { "Name": "orders", "Sql": "select count(*) from orders", "Expect": "= 20000" } ] }""");
        await File.WriteAllTextAsync(configPath, root.ToJsonString(), Ct);
        var drill = await f.RunAsync("drill", "--source", "shop", "--backup", backup, "--json");
        Assert.True(drill.ExitCode == 0, drill.ToString());
        var checks = JsonDocument.Parse(drill.Out).RootElement.GetProperty("checks").EnumerateArray().ToList();
        var load = checks.First(c => c.GetProperty("name").GetString() == "load");
        Assert.Contains(loadedBy, load.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("with the server's defaults", load.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("passed", checks.First(c => c.GetProperty("name").GetString() == "smoke: orders").GetProperty("status").GetString());
    }

    private static async Task<ClusterFixture> SeededShopAsync()
    {
        var f = await ClusterFixture.StartAsync(archiving: false);
        await f.ExecAsync("create database shop");
        await f.Cluster.ExecuteAsync(
            """
            create table customers (id int primary key, name text not null);
            create table orders (id bigserial primary key, customer_id int not null references customers, amount numeric(12,2));
            insert into customers select g, 'customer ' || g from generate_series(1, 1500) g;
            insert into orders (customer_id, amount) select 1 + g % 1500, (g * 7919 % 100000) / 100.0 from generate_series(1, 20000) g;
            """,
            Ct,
            "shop");
        await f.OkAsync("source", "add-database", "shop", "--conn", f.Cluster.ConnectionString("shop"), "--database", "shop");
        return f;
    }

    /// <summary>Every file of the repository with its length: what an upload that wrote nothing leaves as it was.</summary>
    private static List<string> RepositoryFiles(string repository)
        => Directory.EnumerateFiles(repository, "*", SearchOption.AllDirectories).Select(p => $"{Path.GetRelativePath(repository, p)} {new FileInfo(p).Length}").Order(StringComparer.Ordinal).ToList();

    private static async Task<JsonElement> UploadAsync(HttpClient http, string source, string? format, string path)
    {
        using var response = await PostFileAsync(http, $"/api/v1/backups/uploads?source={source}" + (format is null ? "" : $"&format={format}"), path);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"upload of {path} as {format}: {response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static async Task<HttpResponseMessage> PostFileAsync(HttpClient http, string url, string path)
    {
        await using var file = File.OpenRead(path);
        using var content = new StreamContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        // Expect: 100-continue, as curl sends for large bodies: a refused upload (413) is answered before the body is
        // sent, instead of the server closing the connection under a client still writing it.
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative)) { Content = content };
        request.Headers.ExpectContinue = true;
        return await http.SendAsync(request, Ct);
    }

    private static async Task RunOkAsync(string program, string[] args, Dictionary<string, string> environment)
    {
        var result = await ProcessRunner.RunAsync(program, args, null, environment, TimeSpan.FromMinutes(5), Ct);
        Assert.True(result.Success, $"{program} {string.Join(' ', args)} failed ({result.ExitCode}): {result.Error}");
    }

    private static async Task AssertSameRowsAsync(PostgresCluster db, string expected, string actual)
    {
        foreach (var table in Tables)
        {
            Assert.Equal(await db.QueryAsync<long>($"select count(*) from {table}", Ct, expected), await db.QueryAsync<long>($"select count(*) from {table}", Ct, actual));
            Assert.Equal(
                await db.QueryAsync<string>($"select md5(string_agg(t::text, '|' order by id)) from {table} t", Ct, expected),
                await db.QueryAsync<string>($"select md5(string_agg(t::text, '|' order by id)) from {table} t", Ct, actual));
        }
    }
}
