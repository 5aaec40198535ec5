using System.Text.Json;
using Lifeboat.Catalog;

namespace Lifeboat.Engine.Notifications;

/// <summary>Whether an event opens an incident, resolves one, or neither; and which (its key).</summary>
public sealed record IncidentRole(string Key, bool Opens);

/// <summary>
/// Which events belong to an incident (docs/events.md, "Routing rules"): a failed run opens <c>FAMILY:SOURCE</c> and the
/// next successful run of the same family and source resolves it; a health alert opens <c>health:SOURCE:CHECK</c> and
/// its resolution resolves it — a failed wal-push opens the incident of the check <c>WAL archiving</c>, so the
/// archive's recovery resolves both; verify's damage opens <c>verify:</c>, resolved by a verify that finds none.
/// </summary>
public static class Incidents
{
    private static readonly HashSet<string> HealthOpens = new(StringComparer.Ordinal) { "rpo.violated", "rto.violated", "wal.archive_stalled", "target.unreachable", "replication.lagging", "health.violated" };
    private static readonly HashSet<string> HealthResolves = new(StringComparer.Ordinal) { "rpo.resolved", "rto.resolved", "wal.archive_resumed", "target.recovered", "replication.caught_up", "health.resolved" };
    private static readonly HashSet<string> RunFamilies = new(StringComparer.Ordinal) { "backup", "stack_backup", "restore", "verify", "drill", "replicate", "expire", "prune", "forget", "catalog_rebuild" };

    public static IncidentRole? Of(EventRecord e)
    {
        var source = e.Source ?? "";
        if (HealthOpens.Contains(e.Type) || HealthResolves.Contains(e.Type))
        {
            return new IncidentRole($"health:{source}:{Data(e, "check")}", HealthOpens.Contains(e.Type));
        }

        if (e.Type == "wal.archive_failed")
        {
            return new IncidentRole($"health:{source}:WAL archiving", true);
        }

        if (e.Type == "verify.damage_found")
        {
            return new IncidentRole("verify:", true);
        }

        var dot = e.Type.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !RunFamilies.Contains(e.Type[..dot]))
        {
            return null;
        }

        var family = e.Type[..dot];
        var what = e.Type[(dot + 1)..];
        var target = Data(e, "target");
        var key = family == "verify" ? "verify:" : $"{family}:{source}{(target is null ? "" : ":" + target)}";
        return what switch
        {
            "failed" => new IncidentRole(key, true),
            // A verify run that found damage ended "completed": it does not resolve the damage.
            "completed" when family == "verify" && (Data(e, "metadata") ?? "").Contains("damaged", StringComparison.Ordinal) => null,
            "completed" or "passed" => new IncidentRole(key, false),
            _ => null,
        };
    }

    private static string? Data(EventRecord e, string field)
    {
        using var data = JsonDocument.Parse(e.Data);
        return data.RootElement.ValueKind == JsonValueKind.Object && data.RootElement.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
