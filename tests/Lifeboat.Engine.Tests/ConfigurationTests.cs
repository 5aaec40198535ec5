using System.Reflection;
using System.Text.RegularExpressions;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.Tests;

public sealed partial class ConfigurationTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    [Fact]
    public void Environment_variables_override_the_file_with_the_dotnet_convention()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("lifeboat.json"), "{\"Repository\":{\"Url\":\"file:///a\",\"Workers\":2}}");
        var options = ConfigFile.Resolve(null, NoEnvironment, dir.Path).Load(new Dictionary<string, string?>
        {
            ["LIFEBOAT__Repository__Workers"] = "7",
            ["LIFEBOAT__Sources__web__Kind"] = "files",
            ["LIFEBOAT__Sources__web__Path"] = "/srv/web",
        });
        Assert.Equal("file:///a", options.Repository.Url);
        Assert.Equal(7, options.Repository.Workers);
        Assert.Equal("/srv/web", Assert.IsType<FilesSourceOptions>(options.Sources["web"]).Path);
    }

    [Fact]
    public void The_server_only_sections_bind_from_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("lifeboat.json"), """
            {"Repository":{"Url":"file:///a"},"Tenants":{"Directory":"customers","RemovalGrace":"7.00:00:00"},
             "Server":{"PublicUrl":"https://lifeboat.example.com"},
             "Approvals":{"Policies":{"default":{"Role":"admin"},"backup.forget":{"Approvals":2,"Users":["alice","bob"],"ApproveWithin":"04:00:00"}}}}
            """);
        var options = ConfigFile.Resolve(null, NoEnvironment, dir.Path).Load(NoEnvironment);
        Assert.Equal("customers", options.Tenants.Directory);
        Assert.Equal(TimeSpan.FromDays(7), options.Tenants.RemovalGrace);
        Assert.Equal("https://lifeboat.example.com/approvals/apr_1", options.Server.Link("/approvals/apr_1"));
        Assert.Equal(["alice", "bob"], options.Approvals.Policies["backup.forget"].Users);
        Assert.Equal(TimeSpan.FromHours(4), options.Approvals.Policies["backup.forget"].ApproveWithin);
        Assert.Equal("admin", options.Approvals.Policies["default"].Role);
    }

    [Fact]
    public void The_config_file_is_found_by_flag_then_variable_then_working_directory()
    {
        using var dir = new TempDir();
        Assert.Equal(dir.Combine("x.json"), ConfigFile.Resolve("x.json", new Dictionary<string, string?> { ["LIFEBOAT_CONFIG"] = "/y.json" }, dir.Path).Path);
        Assert.Equal("/y.json", ConfigFile.Resolve(null, new Dictionary<string, string?> { ["LIFEBOAT_CONFIG"] = "/y.json" }, dir.Path).Path);
        Assert.Equal(dir.Combine("lifeboat.json"), ConfigFile.Resolve(null, NoEnvironment, dir.Path).Path);
    }

    [Fact]
    public void A_named_config_file_that_does_not_exist_is_a_configuration_error()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<LifeboatException>(() => ConfigFile.Resolve("missing.json", NoEnvironment, dir.Path).Load(NoEnvironment));
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal($"the configuration file {dir.Combine("missing.json")} does not exist", ex.Message);
    }

    [Theory]
    [InlineData("{ not json", "is not valid JSON")]
    [InlineData("{\"Repository\":{\"Wrokers\":2}}", "has an unknown setting `Repository.Wrokers`: Lifeboat has no setting 'Wrokers' there (did you mean `Repository.Workers`?)")]
    [InlineData("{\"Repository\":{\"Workers\":\"many\"}}", "has a setting Lifeboat does not know or a value of the wrong type")]
    [InlineData("{\"Repository\":{\"Workers\":0}}", "Repository:Workers = 0")]
    [InlineData("{\"Repository\":{\"CompressionLevel\":30}}", "Repository:CompressionLevel = 30")]
    [InlineData("{\"Sources\":{\"Bad Name\":{\"Kind\":\"files\",\"Path\":\"/x\"}}}", "'Bad Name' is not a valid source name")]
    [InlineData("{\"Sources\":{\"web\":{\"Kind\":\"files\",\"Path\":\"relative\"}}}", "source 'web' in")]
    [InlineData("{\"Sources\":{\"web\":{\"Kind\":\"tape\",\"Path\":\"/x\"}}}", "has the unknown kind 'tape'")]
    [InlineData("{\"Sources\":{\"web\":{\"Kind\":\"files\",\"Path\":\"/x\",\"Exclude\":[\"[abc\"]}}}", "has an unclosed '['")]
    [InlineData("{\"Sources\":{\"db\":{\"Kind\":\"cluster\",\"PgData\":\"/x\",\"SystemIdentifier\":\"1\",\"Connection\":\"host=/tmp port=x\"}}}", "Sources:db:Connection in ")]
    [InlineData("{\"Sources\":{\"db\":{\"Kind\":\"database\",\"Database\":\"app\",\"Connection\":\"postgresql://h/app?sslmod=require\"}}}", "is not a valid PostgreSQL connection string: unknown URI parameter \"sslmod\"")]
    [InlineData("{\"Catalog\":{\"ConnectionString\":\"hots=db\"}}", "Catalog:ConnectionString in ")]
    [InlineData("{\"Approvals\":{\"Policies\":{\"drop.all\":{\"Role\":\"admin\"}}}}", "Approvals:Policies:drop.all in ")]
    [InlineData("{\"Approvals\":{\"Policies\":{\"backup.forget\":{\"Approvals\":2,\"Users\":[\"alice\"]}}}}", "asks 2 approvals of only 1 named user(s)")]
    [InlineData("{\"Approvals\":{\"Policies\":{\"backup.forget\":{\"Role\":\"admin\",\"Aprovals\":2}}}}", "did you mean `Approvals.Policies.backup.forget.Approvals`?")]
    [InlineData("{\"Server\":{\"PublicUrl\":\"lifeboat.example.com\"}}", "Server:PublicUrl = 'lifeboat.example.com'")]
    [InlineData("{\"Tenants\":{\"RemovalGrac\":\"1.00:00:00\"}}", "did you mean `Tenants.RemovalGrace`?")]
    [InlineData("{\"Repositroy\":{\"Url\":\"file:///a\"}}", "has an unknown setting `Repositroy`: Lifeboat has no setting 'Repositroy' there (did you mean `Repository`?)")]
    [InlineData("{\"Sources\":{\"web\":{\"Kind\":\"files\",\"Path\":\"/x\",\"Retention\":{\"KeepDaly\":7}}}}", "has an unknown setting `Sources.web.Retention.KeepDaly`: Lifeboat has no setting 'KeepDaly' there (did you mean `Sources.web.Retention.KeepDaily`?)")]
    [InlineData("{\"Sources\":{\"web\":{\"Kind\":\"files\",\"Path\":\"/x\",\"PgData\":\"/y\"}}}", "has an unknown setting `Sources.web.PgData`: Lifeboat has no setting 'PgData' there")]
    [InlineData("{\"Events\":{\"Routes\":[{\"Channels\":[\"a\"]},{\"Chanels\":[\"a\"]}]}}", "has an unknown setting `Events.Routes[1].Chanels`: Lifeboat has no setting 'Chanels' there (did you mean `Events.Routes[1].Channels`?)")]
    [InlineData("{\"Targets\":{\"offsite\":{\"Url\":\"file:///b\",\"Retention\":{\"KeepLats\":3}}}}", "has an unknown setting `Targets.offsite.Retention.KeepLats`")]
    public void Bad_configuration_is_reported_with_exit_code_2_naming_the_setting(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("lifeboat.json"), json);
        var ex = Assert.Throws<LifeboatException>(() => ConfigFile.Resolve(null, NoEnvironment, dir.Path).Load(NoEnvironment));
        Assert.Equal(2, ex.ExitCode);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Issue 19, item 9: an unknown setting set by a LIFEBOAT__ variable is named as that variable.</summary>
    [Fact]
    public void An_unknown_setting_from_an_environment_variable_names_the_variable()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("lifeboat.json"), "{\"Repository\":{\"Url\":\"file:///a\"}}");
        var ex = Assert.Throws<LifeboatException>(() => ConfigFile.Resolve(null, NoEnvironment, dir.Path).Load(new Dictionary<string, string?> { ["LIFEBOAT__Repository__Wrokers"] = "2" }));
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal("the variable LIFEBOAT__Repository__Wrokers has an unknown setting `Repository.Wrokers`: Lifeboat has no setting 'Wrokers' there (did you mean `Repository.Workers`?)", ex.Message);
        Assert.Equal("rename it to Workers, or remove it (docs/configuration.md lists the settings)", ex.Hint);
    }

    /// <summary>
    /// The unknown-setting check knows every options type reachable from LifeboatOptions: a type it did not list would go
    /// unchecked (never wrongly refused), and its settings would be named only by the binder.
    /// </summary>
    [Fact]
    public void The_unknown_setting_check_lists_every_options_type()
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(LifeboatOptions), typeof(FilesSourceOptions), typeof(ClusterSourceOptions), typeof(DatabaseSourceOptions), typeof(ConfigSourceOptions)]);
        while (pending.TryPop(out var type))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type.IsGenericType)
            {
                foreach (var argument in type.GetGenericArguments())
                {
                    pending.Push(argument);
                }

                continue;
            }

            if (type.Namespace != typeof(LifeboatOptions).Namespace || type.IsAbstract || !seen.Add(type))
            {
                continue;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                pending.Push(property.PropertyType);
            }
        }

        Assert.Empty(seen.Except(ConfigSchema.Listed));
    }

    [Fact]
    public void Editing_keeps_other_settings_and_makes_the_file_private()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("lifeboat.json"), "{\"Repository\":{\"Url\":\"file:///a\"},\"Custom\":{\"Keep\":1}}");
        var file = ConfigFile.Resolve(null, NoEnvironment, dir.Path);
        file.Edit(root => ConfigFile.Section(root, "Repository")["Workers"] = 3);
        var text = File.ReadAllText(file.Path);
        Assert.Contains("\"Keep\": 1", text, StringComparison.Ordinal);
        Assert.Contains("\"Workers\": 3", text, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
    }

    [Fact]
    public void A_new_file_in_a_directory_another_user_owns_gets_that_owner_when_root_writes_it()
    {
        Assert.SkipUnless(Peers.IsRoot, "only root can give a file to another user");
        var postgres = File.ReadAllLines("/etc/passwd").Select(l => l.Split(':')).FirstOrDefault(f => f[0] == "postgres");
        Peers.Require(postgres is not null, "the postgres OS user");
        using var dir = new TempDir();
        var etc = dir.Dir("etc-lifeboat");
        Platform.Unix.Lchown(etc, long.Parse(postgres![2], System.Globalization.CultureInfo.InvariantCulture), long.Parse(postgres[3], System.Globalization.CultureInfo.InvariantCulture));
        var file = ConfigFile.Resolve(Path.Combine(etc, "lifeboat.json"), NoEnvironment, dir.Path);
        file.Edit(root => ConfigFile.Section(root, "Repository")["Workers"] = 3);
        Assert.Equal(postgres[2], Platform.Unix.Lstat(file.Path)!.Value.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var key = Repository.Crypto.KeyMaterial.CreateKeyFile(Path.Combine(etc, "repo.key"));
        Assert.Equal(postgres[2], Platform.Unix.Lstat(Path.Combine(etc, "repo.key"))!.Value.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotNull(key);

        // In a root-owned directory the file stays root's.
        var mine = ConfigFile.Resolve(dir.Combine("lifeboat.json"), NoEnvironment, dir.Path);
        mine.Edit(root => ConfigFile.Section(root, "Repository")["Workers"] = 3);
        Assert.Equal(0, Platform.Unix.Lstat(mine.Path)!.Value.Uid);
    }

    /// <summary>docs/configuration.md documents every setting of the options classes (STYLE.md rule 14).</summary>
    [Fact]
    public void Every_setting_is_documented_in_docs_configuration_md()
    {
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "configuration.md"));
        var documented = DocumentedKey().Matches(doc).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var (section, type) in new[]
                 {
                     ("Repository", typeof(RepositoryOptions)), ("Sources:NAME", typeof(SourceOptions)), ("Sources:NAME:Retention", typeof(RetentionOptions)),
                     ("Catalog", typeof(CatalogOptions)), ("Schedules:NAME", typeof(ScheduleOptions)), ("Health", typeof(HealthOptions)),
                     ("Targets:NAME", typeof(TargetOptions)), ("Events", typeof(EventsOptions)), ("Events:Webhooks", typeof(WebhookOptions)),
                     ("Drill", typeof(DrillOptions)), ("Sources:NAME:Drill", typeof(DrillSourceOptions)), ("Sources:NAME:WalFetch", typeof(WalFetchOptions)), ("Sources:NAME:Drill:SmokeQueries:N", typeof(SmokeQueryOptions)),
                     ("Server", typeof(ServerOptions)), ("Server:Jwt", typeof(JwtOptions)), ("Tenants", typeof(TenantsOptions)), ("Stacks:NAME", typeof(StackOptions)),
                     ("Approvals", typeof(ApprovalsOptions)), ("Approvals:Policies:OPERATION", typeof(ApprovalPolicyOptions)),
                 })
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var key = $"{section}:{property.Name}";
                if (!documented.Contains(key))
                {
                    missing.Add(key);
                }
            }
        }

        Assert.True(missing.Count == 0, "docs/configuration.md does not document: " + string.Join(", ", missing));
    }

    internal static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Lifeboat.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("cannot find the repository root");
    }

    [GeneratedRegex(@"`([A-Za-z]+(?::[A-Za-z]+)+)`")]
    private static partial Regex DocumentedKey();
}
