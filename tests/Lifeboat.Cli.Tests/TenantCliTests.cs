using System.Text.Json;

namespace Lifeboat.Cli.Tests;

/// <summary>`lifeboat tenant …` and `--tenant` (docs/tenants.md), in-process on a server configuration with a real repository per tenant.</summary>
public sealed class TenantCliTests
{
    private static string[] Files(string directory) => Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    private static JsonElement Json(CliResult r) => JsonDocument.Parse(r.Out).RootElement;

    [Fact]
    public async Task A_tenant_has_its_own_repository_key_and_catalog_rows_and_the_server_workspace_sees_none_of_them()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");

        var added = Json(await f.Cli.OkAsync("tenant", "add", "acme", "--display-name", "Acme Inc", "--json"));
        var directory = added.GetProperty("tenant").GetProperty("directory").GetString()!;
        var keyFile = added.GetProperty("keyFile").GetString()!;
        Assert.Equal(f.Dir.Combine("tenants", "acme"), directory);
        Assert.True(File.Exists(keyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
        var other = Path.Combine(f.Dir.Path, "other-tree");
        TestData.WriteTree(other, 9);
        await f.Cli.OkAsync("--tenant", "acme", "source", "add-files", "shop", "--path", other);
        // The same source name in another tenant is another source.
        await f.Cli.OkAsync("--tenant", "acme", "source", "add-files", "app", "--path", other);
        await f.Cli.OkAsync("--tenant", "acme", "backup", "--source", "shop");
        await f.Cli.OkAsync("--tenant", "acme", "backup", "--source", "app");

        var host = Json(await f.Cli.OkAsync("list", "--json")).GetProperty("backups").EnumerateArray().ToList();
        var acme = Json(await f.Cli.OkAsync("--tenant", "acme", "list", "--json")).GetProperty("backups").EnumerateArray().ToList();
        Assert.Single(host);
        Assert.Equal(2, acme.Count);
        Assert.Empty(host.Select(b => b.GetProperty("id").GetString()).Intersect(acme.Select(b => b.GetProperty("id").GetString())));

        // LIFEBOAT_TENANT does what --tenant does.
        f.Cli.Environment["LIFEBOAT_TENANT"] = "acme";
        Assert.Equal(2, Json(await f.Cli.OkAsync("list", "--json")).GetProperty("backups").GetArrayLength());
        f.Cli.Environment.Remove("LIFEBOAT_TENANT");

        // Each repository opens with its own key only: the host's passphrase does not open the tenant's, nor the
        // tenant's key file the host's.
        var wrongKey = await f.Cli.RunAsync("--config", Path.Combine(directory, "lifeboat.json"), "--passphrase-file", WritePassphrase(f), "list");
        Assert.Equal(2, wrongKey.ExitCode);
        var hostWithTenantKey = await f.Cli.RunAsync("--key-file", keyFile, "list");
        Assert.Equal(2, hostWithTenantKey.ExitCode);

        // The restored tenant tree is its own data.
        var target = f.Dir.Combine("restored");
        await f.Cli.OkAsync("--tenant", "acme", "restore", "--source", "shop", "--to", target);
        Assert.Empty(Lifeboat.Engine.Demo.TreeComparer.Compare(other, target));

        var show = Json(await f.Cli.OkAsync("tenant", "show", "acme", "--json"));
        Assert.Equal("Acme Inc", show.GetProperty("displayName").GetString());
        Assert.Equal(2, show.GetProperty("usage").GetProperty("backups").GetInt64());
        Assert.Equal(2, show.GetProperty("usage").GetProperty("sources").GetInt32());
        Assert.True(show.GetProperty("usage").GetProperty("storedBytes").GetInt64() > 0);
        Assert.Contains("acme", (await f.Cli.OkAsync("tenant", "list", "--search", "ACM")).Out, StringComparison.Ordinal);
        Assert.Equal(0, Json(await f.Cli.OkAsync("tenant", "list", "--search", "nomatch", "--json")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Bad_tenant_input_exits_2_naming_the_value_and_changes_nothing()
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        await f.Cli.OkAsync("tenant", "add", "acme");
        var before = Files(f.Dir.Path);

        var unknown = await f.Cli.RunAsync("--tenant", "nosuch", "list");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("there is no tenant 'nosuch'", unknown.Error, StringComparison.Ordinal);
        Assert.Contains("tenants: acme", unknown.Error, StringComparison.Ordinal);

        var badName = await f.Cli.RunAsync("tenant", "add", "Acme_Inc");
        Assert.Equal(2, badName.ExitCode);
        Assert.Contains("'Acme_Inc' is not a tenant name", badName.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await f.Cli.RunAsync("tenant", "add", "default")).ExitCode);
        var twice = await f.Cli.RunAsync("tenant", "add", "acme");
        Assert.Equal(2, twice.ExitCode);
        Assert.Contains("already exists", twice.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await f.Cli.RunAsync("tenant", "suspend", "acme")).ExitCode); // --reason is required
        Assert.Equal(2, (await f.Cli.RunAsync("tenant", "quota", "acme", "--sources", "0")).ExitCode);
        Assert.Equal(1, (await f.Cli.RunAsync("tenant", "show", "nosuch")).ExitCode); // not found, as a token or backup id that is not there
        Assert.Equal(before, Files(f.Dir.Path).Where(p => !p.Contains("lifeboat.db", StringComparison.Ordinal)).Concat(before.Where(p => p.Contains("lifeboat.db", StringComparison.Ordinal))).Order(StringComparer.Ordinal));

        // A tenant's configuration may not hold the server's settings.
        var config = f.Dir.Combine("tenants", "acme", "lifeboat.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        json["Catalog"] = new System.Text.Json.Nodes.JsonObject { ["Path"] = "/tmp/elsewhere.db" };
        File.WriteAllText(config, json.ToJsonString());
        var serverKey = await f.Cli.RunAsync("--tenant", "acme", "list");
        Assert.Equal(2, serverKey.ExitCode);
        Assert.Contains("may not have Catalog", serverKey.Error, StringComparison.Ordinal);
        // The server's own workspace is not affected by a broken tenant.
        await f.Cli.OkAsync("list");
    }

    [Fact]
    public async Task Quotas_refuse_before_anything_is_written_and_suspension_refuses_writes_but_not_reads()
    {
        using var f = new CliFixture();
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        await f.Cli.OkAsync("tenant", "add", "acme", "--quota-sources", "1", "--quota-stored", "1KiB");
        await f.Cli.OkAsync("--tenant", "acme", "source", "add-files", "app", "--path", f.Source);
        var repository = f.Dir.Combine("tenants", "acme", "repository");
        var config = f.Dir.Combine("tenants", "acme", "lifeboat.json");
        var configBefore = File.ReadAllText(config);

        var second = await f.Cli.RunAsync("--tenant", "acme", "source", "add-files", "more", "--path", f.Source);
        Assert.Equal(2, second.ExitCode);
        Assert.Contains("has 1 of its 1 sources", second.Error, StringComparison.Ordinal);
        Assert.Equal(configBefore, File.ReadAllText(config));

        var filesBefore = Files(repository);
        var over = await f.Cli.RunAsync("--tenant", "acme", "backup", "--source", "app");
        Assert.Equal(2, over.ExitCode);
        Assert.Contains("quota", over.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was written", over.Error, StringComparison.Ordinal);
        Assert.Equal(filesBefore, Files(repository));
        var events = (await f.Cli.OkAsync("--tenant", "acme", "events", "list", "--json")).Out;
        Assert.Contains("tenant.quota.exceeded", events, StringComparison.Ordinal);

        await f.Cli.OkAsync("tenant", "quota", "acme", "--stored", "none");
        await f.Cli.OkAsync("--tenant", "acme", "backup", "--source", "app");

        await f.Cli.OkAsync("tenant", "suspend", "acme", "--reason", "unpaid invoice");
        var refused = await f.Cli.RunAsync("--tenant", "acme", "backup", "--source", "app");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("tenant 'acme' is suspended", refused.Error, StringComparison.Ordinal);
        Assert.Contains("unpaid invoice", refused.Error, StringComparison.Ordinal);
        // --ignore-maintenance does not lift a suspension.
        Assert.Equal(2, (await f.Cli.RunAsync("--tenant", "acme", "--ignore-maintenance", "backup", "--source", "app")).ExitCode);
        // Reads go on: its backup is listed and verified. A restore is an operation, refused like a backup.
        Assert.Equal(1, Json(await f.Cli.OkAsync("--tenant", "acme", "list", "--json")).GetProperty("backups").GetArrayLength());
        await f.Cli.OkAsync("--tenant", "acme", "verify");
        var target = f.Dir.Combine("restored");
        Assert.Equal(2, (await f.Cli.RunAsync("--tenant", "acme", "restore", "--source", "app", "--to", target)).ExitCode);
        Assert.False(Directory.Exists(target));
        Assert.Contains("tenant.suspended", (await f.Cli.OkAsync("--tenant", "acme", "events", "list", "--json")).Out, StringComparison.Ordinal);

        await f.Cli.OkAsync("tenant", "resume", "acme");
        await f.Cli.OkAsync("--tenant", "acme", "backup", "--source", "app");
        Assert.Equal(2, Json(await f.Cli.OkAsync("--tenant", "acme", "list", "--json")).GetProperty("backups").GetArrayLength());
    }

    [Fact]
    public async Task Removal_revokes_the_tenants_tokens_and_keeps_its_data_for_the_grace_period()
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        await f.Cli.OkAsync("tenant", "add", "acme");
        var token = Json(await f.Cli.OkAsync("--tenant", "acme", "token", "create", "--name", "ci", "--role", "admin", "--json"));
        Assert.Equal("acme", token.GetProperty("tenant").GetString());
        Assert.Equal(2, (await f.Cli.RunAsync("--tenant", "acme", "token", "create", "--name", "root", "--role", "superadmin")).ExitCode);

        var removing = Json(await f.Cli.OkAsync("tenant", "remove", "acme", "--json"));
        Assert.Equal("removing", removing.GetProperty("state").GetString());
        var removeAfter = removing.GetProperty("removeAfter").GetDateTimeOffset();
        Assert.InRange(removeAfter - TimeProvider.System.GetUtcNow(), TimeSpan.FromDays(29.9), TimeSpan.FromDays(30.1));
        var tokens = Json(await f.Cli.OkAsync("--tenant", "acme", "token", "list", "--all", "--json")).GetProperty("items");
        Assert.All(tokens.EnumerateArray(), t => Assert.True(t.TryGetProperty("revoked", out var r) && r.ValueKind == JsonValueKind.String));
        Assert.True(Directory.Exists(f.Dir.Combine("tenants", "acme", "repository")));
        Assert.Equal(2, (await f.Cli.RunAsync("--tenant", "acme", "source", "add-files", "x", "--path", f.Dir.Path)).ExitCode);

        Assert.Equal("active", Json(await f.Cli.OkAsync("tenant", "resume", "acme", "--json")).GetProperty("state").GetString());
    }

    private static string WritePassphrase(CliFixture f)
    {
        var path = f.Dir.Combine("host.passphrase");
        File.WriteAllText(path, CliFixture.Passphrase + "\n");
        return path;
    }
}
