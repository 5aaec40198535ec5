using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Sources;

namespace Lifeboat.Engine.UseCases.Stacks;

/// <param name="Sources">The application's sources (databases, clusters, files, config sets), each once.</param>
public sealed record AddStackRequest(string Name, IReadOnlyList<string> Sources);

/// <param name="Order">The sources in the order a stack backup takes them.</param>
public sealed record AddStackResult(string Name, string ConfigPath, IReadOnlyList<StackMemberSource> Order);

/// <summary>`stack add`: defines a stack of configured sources. Bad input leaves the file as it was.</summary>
public sealed class AddStack : IUseCase<AddStackRequest, AddStackResult>
{
    private readonly Workspace _workspace;
    private readonly SourceHandlers _handlers;
    private readonly Events _events;

    public AddStack(Workspace workspace, SourceHandlers handlers, Events events)
    {
        _workspace = workspace;
        _handlers = handlers;
        _events = events;
    }

    public async Task<AddStackResult> ExecuteAsync(AddStackRequest request, CancellationToken cancellationToken)
    {
        SourceNames.Validate(request.Name, "stack name");
        var options = _workspace.OptionsOrEmpty;
        if (options.Stacks.ContainsKey(request.Name))
        {
            throw new LifeboatException(ErrorCode.Refused, $"a stack named '{request.Name}' already exists in {_workspace.Config.Path}", $"choose another name, or remove it first with `lifeboat stack remove {request.Name}`");
        }

        var members = request.Sources.Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        if (members.Count == 0)
        {
            throw new LifeboatException(ErrorCode.Usage, "«sources» names no source", "give the application's sources, for example «sources» app-db,uploads,app-config");
        }

        var unknown = members.Where(m => !options.Sources.ContainsKey(m)).ToList();
        if (unknown.Count > 0)
        {
            var known = options.Sources.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", options.Sources.Keys.Order(StringComparer.Ordinal));
            throw new LifeboatException(ErrorCode.InvalidInput, $"stack '{request.Name}' names {(unknown.Count == 1 ? "a source" : "sources")} that {(unknown.Count == 1 ? "is" : "are")} not configured: {string.Join(", ", unknown)} ({known})", "add the sources first (`lifeboat source add-…`), or fix the names");
        }

        var twice = members.GroupBy(m => m, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«sources» names '{twice.Key}' twice", "list each source once");
        }

        _workspace.EditConfig(root => ConfigFile.Section(root, "Stacks")[request.Name] = ConfigJson.Section(new StackOptions { Sources = members }));
        await _events.PublishAsync(new ConfigurationChanged("stack", "added", request.Name, null, string.Join(",", members)), cancellationToken);
        var ordered = StackRecords.Ordered(_workspace, _handlers, request.Name).Select(m => new StackMemberSource(m.Name, m.Source.Kind)).ToList();
        return new AddStackResult(request.Name, _workspace.Config.Path, ordered);
    }
}
