using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;

namespace Lifeboat.Engine.Logical;

/// <summary>`lifeboat check` for a database source: the database answers, pg_dump can dump it, and the repository has room.</summary>
public static class LogicalChecks
{
    public static async Task<CheckResult> CheckAsync(Lifeboat.Repository.Repository? repository, string name, DatabaseSourceOptions source, Lifeboat.Postgres.Tools.PgBinaries pg, Sources.ISourceHandler handler, CancellationToken cancellationToken)
    {
        try
        {
            var (database, pgDump) = await LogicalBackup.CheckSourceAsync(name, source, pg, cancellationToken);
            var detail = $"database '{database.Name}' ({ByteSize.Format(database.Size)}) on PostgreSQL {database.ServerVersion}; {pgDump}";
            if (repository is not null)
            {
                await SpaceCheck.EnsureAsync(repository, name, source, handler, cancellationToken);
            }

            return new CheckResult(name, "database", CheckStatus.Ok, detail);
        }
        catch (LifeboatException ex)
        {
            return new CheckResult(name, "database", CheckStatus.Failed, ex.Message, ex.Hint);
        }
    }
}
