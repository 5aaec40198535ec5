using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Server;

namespace Lifeboat.Engine.UseCases.Sources;

/// <param name="Pgdata">The cluster's data directory.</param>
/// <param name="Conn">How to connect: libpq keyword/value (host=/var/run/postgresql user=postgres), a postgresql:// URI or Npgsql's form.</param>
public sealed record AddClusterSourceRequest(string Name, string Pgdata, string Conn);

/// <summary>
/// `source add-cluster`: a PostgreSQL cluster, identified by the system identifier in its pg_control. When the server
/// answers, it must be the same cluster; when it does not, the source is added anyway with a warning.
/// </summary>
public sealed class AddClusterSource : IUseCase<AddClusterSourceRequest, AddSourceResult>
{
    private readonly SourceConfiguration _sources;

    public AddClusterSource(SourceConfiguration sources) => _sources = sources;

    public async Task<AddSourceResult> ExecuteAsync(AddClusterSourceRequest request, CancellationToken cancellationToken)
    {
        _sources.CheckName(request.Name);
        var dir = _sources.Workspace.ResolvePath(request.Pgdata);
        var control = PgControl.Read(dir);
        var target = PgConnection.Resolve(request.Conn, _sources.Workspace.Environment, FieldText.Ref("conn"));
        string? connected = null;
        var warnings = new List<string>();
        try
        {
            await using var server = await PgServer.ConnectAsync(target, cancellationToken);
            var info = await server.GetInfoAsync(cancellationToken);
            if (info.SystemIdentifier != control.SystemIdentifier)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"the server at {server.Display} is the cluster {info.SystemIdentifier}, but {dir} holds the cluster {control.SystemIdentifier}", "«conn» and «pgdata» must name the same cluster");
            }

            connected = $"{server.Display}: PostgreSQL {info.Version}";
        }
        catch (LifeboatException ex) when (ex.Code is ErrorCode.PostgresFailed)
        {
            warnings.Add($"{ex.Message}; the source is added anyway — run `lifeboat check --source {request.Name}` once the server is up");
        }

        var options = new ClusterSourceOptions
        {
            PgData = dir,
            Connection = request.Conn,
            SystemIdentifier = control.SystemIdentifier.ToString(CultureInfo.InvariantCulture),
        };
        options.UseEnvironment(_sources.Workspace.Environment);
        await _sources.AddAsync(request.Name, options, cancellationToken);
        return new AddSourceResult(
            request.Name,
            options.Kind,
            _sources.Workspace.Config.Path,
            $"cluster {control.SystemIdentifier}, PostgreSQL {control.MajorVersion}, {dir}",
            connected,
            warnings,
            [$"`lifeboat archiving setup --source {request.Name} --apply`", $"`lifeboat check --source {request.Name}`"]);
    }
}
