using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Lifeboat.Core;

namespace Lifeboat.Postgres;

/// <summary>What a physical backup records about the cluster (the manifest's details.cluster).</summary>
public sealed record ClusterBackupInfo
{
    [JsonPropertyName("systemIdentifier")]
    public required string SystemIdentifier { get; init; }

    [JsonPropertyName("serverVersion")]
    public required int ServerVersion { get; init; }

    [JsonPropertyName("serverVersionText")]
    public required string ServerVersionText { get; init; }

    [JsonPropertyName("catalogVersion")]
    public uint CatalogVersion { get; init; }

    [JsonPropertyName("dataChecksums")]
    public bool DataChecksums { get; init; }

    [JsonPropertyName("blockSize")]
    public int BlockSize { get; init; }

    [JsonPropertyName("walSegmentSize")]
    public long WalSegmentSize { get; init; }

    [JsonPropertyName("timeline")]
    public uint Timeline { get; init; }

    [JsonPropertyName("startLsn")]
    public required string StartLsn { get; init; }

    [JsonPropertyName("stopLsn")]
    public required string StopLsn { get; init; }

    [JsonPropertyName("startWal")]
    public required string StartWal { get; init; }

    [JsonPropertyName("stopWal")]
    public required string StopWal { get; init; }

    /// <summary>When pg_backup_start returned (the backup is consistent from the stop point on).</summary>
    [JsonPropertyName("startTime")]
    public DateTimeOffset StartTime { get; init; }

    /// <summary>When pg_backup_stop returned: the earliest time this backup can recover to.</summary>
    [JsonPropertyName("stopTime")]
    public DateTimeOffset StopTime { get; init; }

    /// <summary>The next transaction id (with epoch) when the backup stopped: transactions from it on commit after the backup is consistent.</summary>
    [JsonPropertyName("stopNextXid")]
    public long StopNextXid { get; init; }

    [JsonPropertyName("backupLabel")]
    public required string BackupLabel { get; init; }

    [JsonPropertyName("tablespaceMap")]
    public string? TablespaceMap { get; init; }

    [JsonPropertyName("pgdata")]
    public required string PgData { get; init; }

    [JsonPropertyName("tablespaces")]
    public List<TablespaceInfo> Tablespaces { get; init; } = [];

    /// <summary>Pages whose checksum failed, as "tree path: block,block-block".</summary>
    [JsonPropertyName("pageChecksumErrors")]
    public List<string> PageChecksumErrors { get; init; } = [];

    /// <summary>Exact row counts taken right after pg_backup_stop, for drills (absent in older backups or when disabled).</summary>
    [JsonPropertyName("rowCounts")]
    public RowCountSnapshot? RowCounts { get; init; }

    [JsonIgnore]
    public Lsn Start => Lsn.Parse(StartLsn);

    [JsonIgnore]
    public Lsn Stop => Lsn.Parse(StopLsn);

    [JsonIgnore]
    public ulong SystemId => ulong.Parse(SystemIdentifier, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The manifest's <c>details</c> of a cluster backup: <c>{"cluster": {...}}</c> (repository format, section 11).</summary>
    public JsonObject ToDetails() => JsonSerializer.SerializeToNode(new ClusterDetails(this), ClusterInfoJson.Default.ClusterDetails)!.AsObject();

    public static ClusterBackupInfo? FromDetails(JsonObject? details)
        => details?["cluster"] is JsonObject cluster ? cluster.Deserialize(ClusterInfoJson.Default.ClusterBackupInfo) : null;
}

public sealed record TablespaceInfo(
    [property: JsonPropertyName("oid")] uint Oid,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("location")] string Location);

/// <summary>
/// Exact row counts of one database's tables, all read in one REPEATABLE READ snapshot whose WAL position is
/// <see cref="Lsn"/> (pg_current_wal_insert_lsn() read in the snapshot's first statement). Recovering to that LSN,
/// excluding the record there, restores the state the counts describe (repository format, section 11).
/// </summary>
public sealed record RowCountSnapshot
{
    [JsonPropertyName("database")]
    public required string Database { get; init; }

    /// <summary>The WAL insert position read in the snapshot's first statement; empty when counting failed.</summary>
    [JsonPropertyName("lsn")]
    public required string Lsn { get; init; }

    /// <summary>The server's clock_timestamp() in the same statement.</summary>
    [JsonPropertyName("time")]
    public DateTimeOffset Time { get; init; }

    /// <summary>The N largest tables (by pg_class.reltuples) were counted; null: every table.</summary>
    [JsonPropertyName("limit")]
    public int? Limit { get; init; }

    [JsonPropertyName("tables")]
    public List<TableRowCount> Tables { get; init; } = [];

    /// <summary>Tables the backup's role may not read (SELECT privilege), left out.</summary>
    [JsonPropertyName("skipped")]
    public int Skipped { get; init; }

    /// <summary>How long counting took, in milliseconds.</summary>
    [JsonPropertyName("elapsedMs")]
    public long ElapsedMs { get; init; }

    /// <summary>Why no counts were recorded (the backup itself succeeded).</summary>
    [JsonPropertyName("error")]
    public string? Error { get; init; }

    [JsonIgnore]
    public Core.Lsn? Position => Error is null && Core.Lsn.TryParse(Lsn, out var l) ? l : null;
}

public sealed record TableRowCount(
    [property: JsonPropertyName("schema")] string Schema,
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("rows")] long Rows);

/// <summary>The shape of a cluster backup's manifest details.</summary>
internal sealed record ClusterDetails([property: JsonPropertyName("cluster")] ClusterBackupInfo Cluster);

[JsonSerializable(typeof(ClusterBackupInfo))]
[JsonSerializable(typeof(ClusterDetails))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class ClusterInfoJson : JsonSerializerContext;
