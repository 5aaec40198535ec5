using System.Reflection;
using Lifeboat.Engine.Application;
using Microsoft.Extensions.Logging;
using NetArchTest.Rules;

namespace Lifeboat.Cli.Tests;

/// <summary>
/// The layering of docs/design/layout.md, checked on the compiled assemblies: the adapters (command line, server) call
/// use cases and never reach past them into the repository, the catalog, the targets or PostgreSQL; the application
/// layer knows nothing of its adapters.
/// </summary>
public sealed class ArchitectureTests
{
    /// <summary>What only the application layer may touch: opening and locking repositories, targets, catalogs, servers.</summary>
    private static readonly string[] Machinery =
    [
        "Lifeboat.Repository.Repository",
        "Lifeboat.Repository.Locks",
        "Lifeboat.Repository.Writing",
        "Lifeboat.Repository.Reading",
        "Lifeboat.Repository.Maintenance.Pruner",
        "Lifeboat.Repository.Maintenance.Verifier",
        "Lifeboat.Repository.Maintenance.IndexRebuilder",
        "Lifeboat.Targets.TargetFactory",
        "Lifeboat.Targets.ITarget",
        "Lifeboat.Catalog.LifeboatCatalog",
        "Lifeboat.Postgres.Server",
        "Lifeboat.Postgres.Replication",
        "Lifeboat.Engine.Configuration.ConfigFile",
        "Lifeboat.Engine.Application.RepositoryOpener",
        "Lifeboat.Engine.Application.CatalogAccess",
        "System.Text.Json.Nodes",
    ];

    private static readonly Assembly Cli = typeof(CliApp).Assembly;

    private static readonly Assembly Server = typeof(Lifeboat.Server.LifeboatServer).Assembly;

    private static readonly Assembly Engine = typeof(IUseCase<,>).Assembly;

    [Fact]
    public void Command_handlers_call_use_cases_and_never_the_machinery_under_them()
    {
        var result = Types.InAssembly(Cli).That().ResideInNamespace("Lifeboat.Cli.Commands").ShouldNot().HaveDependencyOnAny(Machinery).GetResult();
        Assert.True(result.IsSuccessful, "command handlers reaching past the use cases: " + Failing(result));
    }

    [Fact]
    public void Server_endpoints_call_use_cases_and_never_the_machinery_under_them()
    {
        var result = Types.InAssembly(Server).ShouldNot().HaveDependencyOnAny(Machinery.Where(m => m != "System.Text.Json.Nodes").ToArray()).GetResult();
        Assert.True(result.IsSuccessful, "server code reaching past the use cases: " + Failing(result));
        // Endpoints serialise result records; only the OpenAPI setup builds JSON nodes (extension values of the document).
        var endpoints = Types.InAssembly(Server).That().ResideInNamespace("Lifeboat.Server.Apis").ShouldNot().HaveDependencyOnAny(Machinery).GetResult();
        Assert.True(endpoints.IsSuccessful, "endpoints reaching past the use cases or building JSON by hand: " + Failing(endpoints));
    }

    [Fact]
    public void The_application_layer_knows_nothing_of_its_adapters_or_the_console()
    {
        var result = Types.InAssembly(Engine).ShouldNot()
            .HaveDependencyOnAny("Lifeboat.Cli", "Lifeboat.Server", "System.CommandLine", "Spectre.Console", "System.Console", "Microsoft.AspNetCore")
            .GetResult();
        Assert.True(result.IsSuccessful, "the Engine depends on an adapter: " + Failing(result));
    }

    [Fact]
    public void The_lower_layers_depend_one_way()
    {
        (string Layer, string[] Above)[] rules =
        [
            ("Lifeboat.Core", ["Lifeboat.Targets", "Lifeboat.Repository", "Lifeboat.Postgres", "Lifeboat.Catalog", "Lifeboat.Engine"]),
            ("Lifeboat.Targets", ["Lifeboat.Repository", "Lifeboat.Postgres", "Lifeboat.Catalog", "Lifeboat.Engine"]),
            ("Lifeboat.Repository", ["Lifeboat.Postgres", "Lifeboat.Catalog", "Lifeboat.Engine"]),
            ("Lifeboat.Postgres", ["Lifeboat.Catalog", "Lifeboat.Engine"]),
            ("Lifeboat.Catalog", ["Lifeboat.Targets", "Lifeboat.Repository", "Lifeboat.Postgres", "Lifeboat.Engine"]),
        ];
        foreach (var (layer, above) in rules)
        {
            var result = Types.InAssembly(Assembly.Load(layer)).ShouldNot().HaveDependencyOnAny(above).GetResult();
            Assert.True(result.IsSuccessful, $"{layer} depends on a layer above it: {Failing(result)}");
        }
    }

    [Fact]
    public void Every_use_case_is_registered_and_resolves()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddLifeboatEngine();
        var useCases = Engine.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IUseCase<,>)))
            .ToList();
        Assert.True(useCases.Count > 40, $"found only {useCases.Count} use cases");
        var unregistered = useCases.Where(t => !services.Any(s => s.ServiceType == t)).Select(t => t.Name).ToList();
        Assert.True(unregistered.Count == 0, "use cases not registered in AddLifeboatEngine: " + string.Join(", ", unregistered));
    }

    [Fact]
    public void Log_event_ids_are_unique_across_the_program()
    {
        var ids = new[] { Cli, Server, Engine }.Concat(new[] { "Lifeboat.Catalog", "Lifeboat.Postgres", "Lifeboat.Repository", "Lifeboat.Targets" }.Select(Assembly.Load))
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToList();
        Assert.NotEmpty(ids);
        var unnumbered = ids.Where(x => x.Attribute!.EventId <= 0).Select(x => x.Method.DeclaringType!.Name + "." + x.Method.Name).ToList();
        Assert.True(unnumbered.Count == 0, "log messages without an event id: " + string.Join(", ", unnumbered));
        var duplicates = ids.GroupBy(x => x.Attribute!.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => x.Method.DeclaringType!.Name + "." + x.Method.Name))}")
            .ToList();
        Assert.True(duplicates.Count == 0, "log event ids used twice: " + string.Join("; ", duplicates));
    }

    private static string Failing(NetArchTest.Rules.TestResult result) => string.Join("; ", (result.FailingTypes ?? []).Select(t => t.FullName + (string.IsNullOrEmpty(t.Explanation) ? "" : " (" + t.Explanation + ")")));
}
