using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Logical;
using Lifeboat.Postgres.Connections;

namespace Lifeboat.Engine.UseCases.Sources;

/// <param name="Conn">How to reach the server: libpq keyword/value, a postgresql:// URI or Npgsql's form (keep passwords in ~/.pgpass).</param>
/// <param name="Database">The database to dump.</param>
/// <param name="ExcludeTable">Tables (pg_dump patterns) left out entirely.</param>
/// <param name="ExcludeTableData">Tables whose definition is dumped but not their rows.</param>
/// <param name="Jobs">Parallel pg_dump and pg_restore jobs.</param>
public sealed record AddDatabaseSourceRequest(string Name, string Conn, string Database, bool SchemaOnly = false, IReadOnlyList<string>? ExcludeTable = null, IReadOnlyList<string>? ExcludeTableData = null, int Jobs = 2);

/// <summary>`source add-database`: a database for logical dumps, checked first (it answers; pg_dump is at least as new as the server).</summary>
public sealed class AddDatabaseSource : Application.IUseCase<AddDatabaseSourceRequest, AddSourceResult>
{
    private readonly SourceConfiguration _sources;

    public AddDatabaseSource(SourceConfiguration sources) => _sources = sources;

    public async Task<AddSourceResult> ExecuteAsync(AddDatabaseSourceRequest request, CancellationToken cancellationToken)
    {
        _sources.CheckName(request.Name);
        var options = new DatabaseSourceOptions
        {
            Connection = request.Conn,
            Database = request.Database,
            SchemaOnly = request.SchemaOnly,
            ExcludeTables = (request.ExcludeTable ?? []).ToList(),
            ExcludeTableData = (request.ExcludeTableData ?? []).ToList(),
            Jobs = request.Jobs,
        };
        PgConnectionString.Parse(request.Conn, FieldText.Ref("conn"));
        options.UseEnvironment(_sources.Workspace.Environment);
        options.Validate(request.Name, _sources.Workspace.Config.Path);
        var (info, pgDump) = await LogicalBackup.CheckSourceAsync(request.Name, options, _sources.Workspace.PgBinaries, cancellationToken);
        await _sources.AddAsync(request.Name, options, cancellationToken);
        return new AddSourceResult(request.Name, options.Kind, _sources.Workspace.Config.Path, $"database '{info.Name}', {ByteSize.Format(info.Size)}, PostgreSQL {info.ServerVersion}; {pgDump}", null, [], []);
    }
}
