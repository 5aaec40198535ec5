using System.Text.Json.Serialization;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Sources;

namespace Lifeboat.Engine.UseCases.Stacks;

/// <param name="Backups">Also list the stack backups in the repository.</param>
public sealed record ListStacksRequest(bool Backups = false);

/// <param name="Sources">The members in backup order.</param>
public sealed record StackSummary(string Name, IReadOnlyList<StackMemberSource> Sources);

public sealed record ListStacksResult(IReadOnlyList<StackSummary> Stacks, IReadOnlyList<StackRecordView> Backups)
{
    /// <summary>The configuration file the stacks are defined in (for people: where to add one).</summary>
    [JsonIgnore]
    public string ConfigPath { get; init; } = "";
}

/// <summary>`stack list`: the configured stacks, and with «backups» their stack backups (a damaged record: exit 3).</summary>
public sealed class ListStacks : IUseCase<ListStacksRequest, ListStacksResult>
{
    private readonly Workspace _workspace;
    private readonly SourceHandlers _handlers;
    private readonly RepositoryOpener _opener;

    public ListStacks(Workspace workspace, SourceHandlers handlers, RepositoryOpener opener)
    {
        _workspace = workspace;
        _handlers = handlers;
        _opener = opener;
    }

    public async Task<ListStacksResult> ExecuteAsync(ListStacksRequest request, CancellationToken cancellationToken)
    {
        var stacks = _workspace.Options.Stacks.Keys.Order(StringComparer.Ordinal)
            .Select(name => new StackSummary(name, StackRecords.Ordered(_workspace, _handlers, name).Select(m => new StackMemberSource(m.Name, m.Source.Kind)).ToList()))
            .ToList();
        List<StackRecordView> records = [];
        if (request.Backups)
        {
            await using var repository = await _opener.OpenAsync(cancellationToken);
            records = (await StackRecords.ListAsync(repository, null, cancellationToken)).Select(r => StackRecordView.From(r.Record, r.Missing)).ToList();
        }

        return new ListStacksResult(stacks, records) { ConfigPath = _workspace.Config.Path };
    }
}
