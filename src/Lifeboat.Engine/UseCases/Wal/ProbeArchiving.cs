using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres.Wal;
using Lifeboat.Targets;

namespace Lifeboat.Engine.UseCases.Wal;

/// <param name="Source">The cluster source (needed when the configuration has several).</param>
public sealed record ProbeArchivingRequest(string? Source = null);

/// <summary>What the archive path could do as this OS user.</summary>
/// <param name="User">The OS user the probe ran as.</param>
/// <param name="Key">Where the key came from ("key file /etc/lifeboat/repo.key"), or "no encryption".</param>
/// <param name="Wrote">The object written to the repository (and deleted again).</param>
public sealed record ArchivingProbeResult(string Source, string User, string ConfigFile, string Key, string Repository, string Wrote);

/// <summary>
/// `archiving probe`: what `wal-push` does before it stores a segment, without storing one — read the configuration,
/// read the key (file) and open the repository with it, and write (then delete) an object where the source's WAL goes
/// (<c>wal/SOURCE/SYSTEM-ID/lifeboat-probe.tmp-*</c>, a name readers ignore). `check` runs it as the data directory's
/// owner through the program archive_command names, so a permission problem shows before archiving fails.
/// </summary>
public sealed class ProbeArchiving : IUseCase<ProbeArchivingRequest, ArchivingProbeResult>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;

    public ProbeArchiving(Workspace workspace, RepositoryOpener opener)
    {
        _workspace = workspace;
        _opener = opener;
    }

    public async Task<ArchivingProbeResult> ExecuteAsync(ProbeArchivingRequest request, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSources.Resolve(_workspace, request.Source);
        var key = KeyResolver.Resolve(_workspace.Options.Repository, _workspace.Keys, _workspace.Environment, _workspace.WorkingDirectory);
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var archive = new WalArchive(repository, name, source.SystemIdValue(), ClusterSources.SegmentSize(source));
        var probe = $"{archive.Prefix}lifeboat-probe.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}";
        try
        {
            await repository.Target.SaveAsync(probe, ObjectSource.FromBytes("lifeboat archiving probe\n"u8.ToArray()), SaveMode.Create, cancellationToken);
            await repository.Target.DeleteAsync(probe, cancellationToken);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw LifeboatException.PermissionDenied(ex);
        }

        return new ArchivingProbeResult(name, Environment.UserName, _workspace.ConfigPath, key?.Description ?? "no encryption", repository.DisplayName, probe);
    }
}
