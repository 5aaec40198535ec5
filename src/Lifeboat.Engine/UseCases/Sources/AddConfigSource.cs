using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;

namespace Lifeboat.Engine.UseCases.Sources;

/// <param name="Path">The files and directories holding configuration or secrets.</param>
public sealed record AddConfigSourceRequest(string Name, IReadOnlyList<string> Path);

/// <summary>
/// `source add-config`: files that hold secrets (.env, appsettings.*.json, YAML) — every path readable, and, when a
/// repository is configured, only an encrypted one. Their contents are never printed.
/// </summary>
public sealed class AddConfigSource : IUseCase<AddConfigSourceRequest, AddSourceResult>
{
    private readonly SourceConfiguration _sources;
    private readonly RepositoryOpener _opener;

    public AddConfigSource(SourceConfiguration sources, RepositoryOpener opener)
    {
        _sources = sources;
        _opener = opener;
    }

    public async Task<AddSourceResult> ExecuteAsync(AddConfigSourceRequest request, CancellationToken cancellationToken)
    {
        _sources.CheckName(request.Name);
        var workspace = _sources.Workspace;
        var options = new ConfigSourceOptions { Paths = request.Path.Select(workspace.ResolvePath).Distinct(StringComparer.Ordinal).ToList() };
        options.Validate(request.Name, workspace.Config.Path);
        ConfigBackup.Check(request.Name, options, null);
        if (workspace.Config.Exists && workspace.Options.Repository.Url is not null)
        {
            await using var repository = await _opener.OpenAsync(cancellationToken);
            ConfigBackup.Check(request.Name, options, repository);
        }

        await _sources.AddAsync(request.Name, options, cancellationToken);
        return new AddSourceResult(request.Name, options.Kind, workspace.Config.Path, $"config, {string.Join(", ", options.Paths)}", null, [], []);
    }
}
