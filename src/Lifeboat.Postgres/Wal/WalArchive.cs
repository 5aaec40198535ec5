using System.Globalization;
using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Postgres.Wal;

public enum PushOutcome
{
    /// <summary>The file was stored.</summary>
    Stored,
    /// <summary>The same file (same content) was already in the archive: success, with a warning.</summary>
    AlreadyArchived,
}

/// <summary>A WAL file read, checked and sealed, ready to be stored in the archive of one or more targets.</summary>
/// <param name="Summary">For a segment: its latest commit/abort time and restore point (<see cref="WalRecords"/>); null when it could not be read.</param>
public sealed record PreparedWal(WalFileName Wal, byte[] Content, byte[] Sealed, WalSegmentSummary? Summary = null);

/// <summary>An archived WAL file.</summary>
/// <param name="SummaryObject">The object holding the segment's summary (<see cref="WalArchive.SummarySuffix"/>); null when there is none (archived by an older version).</param>
public sealed record ArchivedWal(WalFileName Wal, string ObjectName, long StoredSize, DateTimeOffset? Archived, string? SummaryObject = null);

/// <summary>
/// The WAL archive of one cluster source in the repository (repository format, section "WAL archive"):
/// <c>wal/&lt;source&gt;/&lt;system-id&gt;/&lt;first 16 hex of the segment&gt;/&lt;file&gt;</c> for segments, partial segments and
/// backup history files; <c>wal/&lt;source&gt;/&lt;system-id&gt;/&lt;file&gt;</c> for timeline history files.
/// Each object is <c>seal(encoding || file)</c> with the "wal" associated data. Objects are written once and never
/// overwritten with other content. Next to each segment, <c>&lt;segment&gt;.xact</c> holds what the segment says about
/// where a recovery can stop (<see cref="WalSegmentSummary"/>), so that the recoverable window is known without reading WAL.
/// </summary>
public sealed class WalArchive
{
    /// <summary>The suffix of a segment's summary object.</summary>
    public const string SummarySuffix = ".xact";

    private readonly Repo _repo;

    public WalArchive(Repo repository, string source, ulong systemIdentifier, long segmentSize = WalFileName.DefaultSegmentSize)
    {
        _repo = repository;
        Source = source;
        SystemIdentifier = systemIdentifier;
        SegmentSize = segmentSize;
        Prefix = $"{ObjectNames.WalPrefix}{source}/{systemIdentifier.ToString(CultureInfo.InvariantCulture)}/";
    }

    public string Source { get; }

    public ulong SystemIdentifier { get; }

    public long SegmentSize { get; }

    /// <summary>The object-name prefix of this archive.</summary>
    public string Prefix { get; }

    public string ObjectName(WalFileName wal)
        => wal.Kind == WalFileKind.History ? Prefix + wal.Name : $"{Prefix}{wal.Name[..16]}/{wal.Name}";

    public WalFileName ParseName(string name)
    {
        if (!WalFileName.TryParse(name, SegmentSize, out var wal))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{name}' is not the name of a WAL file (a segment, .partial, .backup or .history file)", "archive_command must pass %p and restore_command %f, as PostgreSQL documents");
        }

        return wal!;
    }

    /// <summary>
    /// Archives one file. Durable before it returns (the target's save is atomic and fsynced, or a completed upload).
    /// A segment is checked first: its header must name this cluster's system identifier. Pushing a file whose name is
    /// archived already succeeds when the content is the same and fails when it differs; nothing is ever overwritten.
    /// </summary>
    public async Task<PushOutcome> PushAsync(string path, CancellationToken cancellationToken)
        => await PushAsync(await PrepareAsync(path, cancellationToken), cancellationToken);

    /// <summary>
    /// Reads, checks and seals a WAL file once, so that it can be pushed to several targets holding the same repository
    /// (<see cref="PushAsync(PreparedWal, CancellationToken)"/> on a <see cref="WalArchive"/> of each).
    /// </summary>
    public async Task<PreparedWal> PrepareAsync(string path, CancellationToken cancellationToken)
    {
        var wal = ParseName(Path.GetFileName(path));
        byte[] content;
        try
        {
            content = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (FileNotFoundException)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the WAL file {path} does not exist", "archive_command must pass %p (PostgreSQL runs it in the data directory)");
        }
        catch (UnauthorizedAccessException)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"cannot read the WAL file {path}: permission denied", "run archive_command as the PostgreSQL OS user");
        }

        if (wal.IsSegmentLike)
        {
            var header = WalHeader.Parse(content, $"WAL file {wal.Name}");
            if (header.SystemIdentifier != SystemIdentifier)
            {
                throw new LifeboatException(
                    ErrorCode.Refused,
                    $"WAL file {wal.Name} belongs to the cluster with system identifier {header.SystemIdentifier}, but source '{Source}' is the cluster {SystemIdentifier}; it was not archived",
                    "is archive_command of another cluster pointing at this configuration? If this cluster was re-created, update the source with `lifeboat source add-cluster` under a new name");
            }

            if (header.SegmentSize != SegmentSize || (wal.Kind == WalFileKind.Segment && content.Length != SegmentSize))
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"WAL file {wal.Name} has {content.Length} bytes; a segment of this cluster has {SegmentSize}", "archive_command must pass the complete segment %p");
            }
        }

        byte[] sealedBytes;
        using (var codec = _repo.CreateCodec())
        {
            sealedBytes = codec.Encode(content, compress: true, SealKind.Wal);
        }

        return new PreparedWal(wal, content, sealedBytes, wal.Kind == WalFileKind.Segment ? Summarize(content, wal.Name) : null);
    }

    /// <summary>Stores a prepared WAL file in this archive, with the rules of <see cref="PushAsync(string, CancellationToken)"/>.</summary>
    public async Task<PushOutcome> PushAsync(PreparedWal prepared, CancellationToken cancellationToken)
    {
        var wal = prepared.Wal;
        var name = ObjectName(wal);
        try
        {
            await _repo.Target.SaveAsync(name, ObjectSource.FromBytes(prepared.Sealed), SaveMode.Create, cancellationToken);
            await SaveSummaryAsync(prepared, cancellationToken);
            return PushOutcome.Stored;
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.AlreadyExists)
        {
            var existing = await LoadAsync(name, wal.Name, cancellationToken);
            if (existing is not null && SHA256.HashData(existing).AsSpan().SequenceEqual(SHA256.HashData(prepared.Content)))
            {
                await SaveSummaryAsync(prepared, cancellationToken); // an earlier push may have stopped between the two objects
                return PushOutcome.AlreadyArchived;
            }

            throw new LifeboatException(
                ErrorCode.Refused,
                $"WAL file {wal.Name} is already archived in {_repo.DisplayName} with different content; the archived copy was kept",
                "two clusters may be archiving into the same source, or this cluster was restored without a new timeline; check archive_command and the server log");
        }
    }

    /// <summary>Reads a segment's records; null (never an error: archiving must not fail for it) when they cannot be read.</summary>
    public static WalSegmentSummary? Summarize(byte[] content, string name)
    {
        try
        {
            return WalRecords.Summarize(content, $"WAL file {name}");
        }
        catch (LifeboatException)
        {
            return null;
        }
    }

    /// <summary>Stores the summary of a pushed segment (once; one already there is kept).</summary>
    private async Task SaveSummaryAsync(PreparedWal prepared, CancellationToken cancellationToken)
    {
        if (prepared.Summary is not { } summary)
        {
            return;
        }

        byte[] sealedBytes;
        using (var codec = _repo.CreateCodec())
        {
            sealedBytes = codec.Encode(WalSummaryText.Write(summary), compress: false, SealKind.Wal);
        }

        try
        {
            await _repo.Target.SaveAsync(ObjectName(prepared.Wal) + SummarySuffix, ObjectSource.FromBytes(sealedBytes), SaveMode.Create, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.AlreadyExists)
        {
        }
    }

    /// <summary>
    /// What an archived segment says about where a recovery can stop: its summary object, or (for a segment archived
    /// without one) its records read from the segment itself; null when neither can be read.
    /// </summary>
    public async Task<WalSegmentSummary?> SummaryAsync(ArchivedWal wal, CancellationToken cancellationToken)
    {
        if (wal.SummaryObject is { } summaryObject)
        {
            try
            {
                if (await LoadAsync(summaryObject, wal.Wal.Name + SummarySuffix, cancellationToken) is { } text && WalSummaryText.TryRead(text) is { } read)
                {
                    return read;
                }
            }
            catch (DamageException)
            {
                // fall back to the segment
            }
        }

        try
        {
            return await LoadAsync(wal.ObjectName, wal.Wal.Name, cancellationToken) is { } content ? Summarize(content, wal.Wal.Name) : null;
        }
        catch (DamageException)
        {
            return null;
        }
    }

    /// <summary>Restores an archived file to <paramref name="destination"/>; false when it is not in the archive.</summary>
    public async Task<bool> FetchAsync(string name, string destination, CancellationToken cancellationToken)
    {
        var wal = ParseName(name);
        var content = await LoadAsync(ObjectName(wal), wal.Name, cancellationToken);
        if (content is null)
        {
            return false;
        }

        var temp = destination + ".lifeboat-tmp";
        await File.WriteAllBytesAsync(temp, content, cancellationToken);
        File.Move(temp, destination, overwrite: true);
        return true;
    }

    /// <summary>Whether a file is archived (by name).</summary>
    public async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken)
        => await _repo.Target.StatAsync(ObjectName(ParseName(name)), cancellationToken) is not null;

    /// <summary>Every archived file of this cluster, sorted by name.</summary>
    public async Task<List<ArchivedWal>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<ArchivedWal>();
        var items = await _repo.Target.ListAllAsync(Prefix, cancellationToken);
        var summaries = items.Select(i => i.Name).Where(n => n.EndsWith(SummarySuffix, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var fileName = item.Name[(item.Name.LastIndexOf('/') + 1)..];
            if (WalFileName.TryParse(fileName, SegmentSize, out var wal))
            {
                var summary = item.Name + SummarySuffix;
                result.Add(new ArchivedWal(wal!, item.Name, item.Size, item.Modified, summaries.Contains(summary) ? summary : null));
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Wal.Name, b.Wal.Name));
        return result;
    }

    /// <summary>Reads and opens an archived file; null when it does not exist; damage raises <see cref="DamageException"/>.</summary>
    public async Task<byte[]?> LoadAsync(string objectName, string what, CancellationToken cancellationToken)
    {
        byte[] sealedBytes;
        try
        {
            sealedBytes = await _repo.Target.ReadAllAsync(objectName, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            return null;
        }

        using var codec = _repo.CreateCodec();
        return codec.TryDecode(sealedBytes, SealKind.Wal, out var error)
               ?? throw new DamageException($"archived WAL file {what} ({objectName}) is damaged: {error}", [objectName], [], "recovery cannot replay past this file; restore it from a replica of the repository");
    }
}
