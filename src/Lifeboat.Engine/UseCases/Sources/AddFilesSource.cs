using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;

namespace Lifeboat.Engine.UseCases.Sources;

/// <param name="Path">The directory to protect.</param>
/// <param name="Include">Back up only files matching one of these globs.</param>
/// <param name="Exclude">Skip paths matching one of these globs.</param>
public sealed record AddFilesSourceRequest(string Name, string Path, IReadOnlyList<string>? Include = null, IReadOnlyList<string>? Exclude = null);

/// <summary>`source add-files`: a directory tree (uploads, documents, logs), checked readable before it is added.</summary>
public sealed class AddFilesSource : IUseCase<AddFilesSourceRequest, AddSourceResult>
{
    private readonly SourceConfiguration _sources;

    public AddFilesSource(SourceConfiguration sources) => _sources = sources;

    public async Task<AddSourceResult> ExecuteAsync(AddFilesSourceRequest request, CancellationToken cancellationToken)
    {
        _sources.CheckName(request.Name);
        var options = new FilesSourceOptions
        {
            Path = _sources.Workspace.ResolvePath(request.Path),
            Include = (request.Include ?? []).ToList(),
            Exclude = (request.Exclude ?? []).ToList(),
        };
        foreach (var glob in options.Include.Concat(options.Exclude))
        {
            _ = new GlobPattern(glob);
        }

        FilesBackup.CheckSourcePath(request.Name, options);
        await _sources.AddAsync(request.Name, options, cancellationToken);
        return new AddSourceResult(request.Name, options.Kind, _sources.Workspace.Config.Path, $"files, {options.Path}", null, [], []);
    }
}
