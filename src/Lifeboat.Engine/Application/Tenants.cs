using System.Text.Json;
using System.Text.RegularExpressions;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.Application;

/// <summary>Tenant names (docs/tenants.md): <c>[a-z0-9][a-z0-9-]{0,62}</c>; <c>default</c> is the server's own workspace.</summary>
public static partial class TenantNames
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex Pattern();

    /// <summary>Exit 2 naming the rule when <paramref name="name"/> cannot be a new tenant's name.</summary>
    public static string Validate(string name, string field = "name")
    {
        if (!Pattern().IsMatch(name))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{FieldText.Ref(field)} '{name}' is not a tenant name", "use 1 to 63 lower-case letters, digits and '-', starting with a letter or digit");
        }

        if (name == Workspace.DefaultName)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{FieldText.Ref(field)} '{name}' is reserved: it is the server's own workspace", "choose another name");
        }

        return name;
    }
}

/// <summary>Where tenants' workspaces are, and a tenant's workspace opened from its directory.</summary>
public static class TenantWorkspaces
{
    /// <summary>Settings that belong to the server, never to one tenant's configuration.</summary>
    private static readonly string[] ServerSections = ["Catalog", "Server", "Tenants"];

    /// <summary>The directory holding one directory per tenant: Tenants:Directory, else tenants/ next to the server's configuration.</summary>
    public static string Directory(Workspace host)
        => host.OptionsOrEmpty.Tenants.Directory is { } d ? host.ResolvePath(d) : Path.Combine(Path.GetDirectoryName(host.ConfigPath)!, "tenants");

    /// <summary>The directory of one tenant.</summary>
    public static string DirectoryOf(Workspace host, string name) => Path.Combine(Directory(host), name);

    /// <summary>
    /// The workspace of tenant <paramref name="name"/>: its own lifeboat.json, repository and key file, the server's
    /// catalog. The default tenant's is the server's own. The server's environment reaches a tenant without the
    /// server's configuration overrides (<c>LIFEBOAT__…</c>) and passphrase, which are the server's, not the tenant's.
    /// </summary>
    public static Workspace Open(Workspace host, string name, KeyOptions? keys = null)
    {
        if (name == Workspace.DefaultName)
        {
            return host;
        }

        var directory = DirectoryOf(host, name);
        var environment = host.Environment
            .Where(kv => !kv.Key.StartsWith(ConfigFile.EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && kv.Key != KeyResolver.PassphraseVariable && kv.Key != ConfigFile.ConfigVariable)
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return new Workspace(ConfigFile.Resolve(Path.Combine(directory, "lifeboat.json"), environment, directory), environment, directory, keys ?? new KeyOptions(), name, host);
    }

    /// <summary>Tenant configuration files found free of the server's sections, by path and file identity: a server opens a tenant's workspace for every request.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lifeboat.Platform.FileStat> Checked = new(StringComparer.Ordinal);

    /// <summary>A tenant's configuration: as any, but without the server's sections (exit 2 naming the one it has).</summary>
    internal static LifeboatOptions Load(ConfigFile config, IReadOnlyDictionary<string, string?> environment)
    {
        var options = config.Load(environment);
        var file = Lifeboat.Platform.Unix.Lstat(config.Path);
        if (file is { } known && Checked.TryGetValue(config.Path, out var seen) && seen == known)
        {
            return options;
        }

        if (config.Exists)
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(config.Path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (ServerSections.Any(s => string.Equals(s, property.Name, StringComparison.OrdinalIgnoreCase))
                    || (string.Equals(property.Name, "Events", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.Object
                        && property.Value.EnumerateObject().Any(p => string.Equals(p.Name, "Retention", StringComparison.OrdinalIgnoreCase))))
                {
                    var key = string.Equals(property.Name, "Events", StringComparison.OrdinalIgnoreCase) ? "Events:Retention" : property.Name;
                    throw new LifeboatException(ErrorCode.Config, $"{config.Path} is a tenant's configuration and may not have {key}: that is the server's setting", $"remove {key} from it; set it in the server's lifeboat.json");
                }
            }
        }

        if (file is { } read && Lifeboat.Platform.Unix.Lstat(config.Path) == read)
        {
            Checked[config.Path] = read;
        }

        return options;
    }
}

/// <summary>
/// Whether the call's tenant may change anything (docs/tenants.md, "Suspension"): a suspended tenant, or one being
/// removed, reads its backups but writes nothing. Called where <see cref="MaintenanceGate"/> is, so the CLI, the API
/// and the scheduler refuse alike; WAL archiving and fetching never call it (breaking them breaks the customer's
/// PostgreSQL). The default tenant is never suspended. Scoped.
/// </summary>
public sealed class TenantGate
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;

    public TenantGate(CallContext call, CatalogAccess catalog)
    {
        _call = call;
        _catalog = catalog;
    }

    /// <summary>The call's tenant's registry row; null for the default tenant.</summary>
    public async Task<TenantRecord?> CurrentAsync(CancellationToken cancellationToken)
    {
        if (_call.Workspace.Name == Workspace.DefaultName)
        {
            return null;
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        return await catalog.TenantAsync(_call.Workspace.Name, cancellationToken)
            ?? throw new LifeboatException(ErrorCode.NotFound, $"tenant '{_call.Workspace.Name}' does not exist", "`lifeboat tenant list` shows the tenants");
    }

    /// <summary>Throws <see cref="ErrorCode.Suspended"/> when the call's tenant may not write.</summary>
    /// <param name="operation">What is refused, for the message: "backup of 'app'".</param>
    public async Task EnsureWritableAsync(string operation, CancellationToken cancellationToken)
    {
        if (await CurrentAsync(cancellationToken) is { State: not TenantRecord.Active } tenant)
        {
            throw Refusal(tenant, operation);
        }
    }

    /// <summary>The refusal of a write in a tenant that is not active.</summary>
    public static LifeboatException Refusal(TenantRecord tenant, string operation)
    {
        var since = tenant.StateChanged.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var why = tenant.StateReason is { Length: > 0 } r ? $" ({r})" : "";
        return tenant.State == TenantRecord.Removing
            ? new LifeboatException(ErrorCode.Suspended, $"{operation} refused: tenant '{tenant.Name}' is being removed since {since}{why}: it can read its backups but not change them", $"a superadmin keeps it with `lifeboat tenant resume {tenant.Name}` before its data is deleted")
            : new LifeboatException(ErrorCode.Suspended, $"{operation} refused: tenant '{tenant.Name}' is suspended since {since}{why}: it can read its backups but not change them", $"a superadmin resumes it with `lifeboat tenant resume {tenant.Name}`");
    }
}

/// <summary>
/// A tenant's quotas (docs/tenants.md, "Quotas"), checked before anything is written: stored bytes (what its backups
/// and WAL take after dedup and compression, from the catalog, plus the estimate of the backup about to run) and the
/// number of sources. Over one: <see cref="ErrorCode.QuotaExceeded"/> (exit 2, HTTP 422) and a
/// <c>tenant.quota.exceeded</c> event; reaching 80 %: a <c>tenant.quota.warning</c> event. The default tenant has none. Scoped.
/// </summary>
public sealed class TenantQuotas
{
    private readonly TenantGate _gate;
    private readonly CatalogAccess _catalog;
    private readonly CallContext _call;
    private readonly Events _events;

    public TenantQuotas(TenantGate gate, CatalogAccess catalog, CallContext call, Events events)
    {
        _gate = gate;
        _catalog = catalog;
        _call = call;
        _events = events;
    }

    /// <summary>Refuses a new source <paramref name="name"/> when the tenant has as many as its quota allows.</summary>
    public async Task EnsureSourceAsync(string name, CancellationToken cancellationToken)
    {
        await _gate.EnsureWritableAsync($"adding source '{name}'", cancellationToken);
        if (await _gate.CurrentAsync(cancellationToken) is not { QuotaSources: { } limit } tenant)
        {
            return;
        }

        var count = _call.Workspace.OptionsOrEmpty.Sources.Count;
        if (count + 1 > limit)
        {
            await _events.PublishAsync(new TenantQuotaCrossed(tenant.Name, "sources", "exceeded", count + 1, limit, $"add source '{name}'"), cancellationToken);
            throw new LifeboatException(ErrorCode.QuotaExceeded, $"adding source '{name}' refused: tenant '{tenant.Name}' has {count} of its {limit} sources", "remove a source first, or ask a superadmin to raise the quota (`lifeboat tenant quota NAME --sources N`)");
        }

        if (count + 1 >= limit * 0.8 && count < limit * 0.8)
        {
            await _events.PublishAsync(new TenantQuotaCrossed(tenant.Name, "sources", "warning", count + 1, limit), cancellationToken);
        }
    }

    /// <summary>The call's tenant's concurrent-jobs quota; null when it has none (or is the default tenant).</summary>
    public async Task<long?> JobsLimitAsync(CancellationToken cancellationToken)
        => (await _gate.CurrentAsync(cancellationToken))?.QuotaJobs;

    /// <summary>
    /// Refuses a job <paramref name="kind"/> when the tenant already has <paramref name="unfinished"/> jobs queued,
    /// running or awaiting approval and its quota is <paramref name="limit"/>. The caller counts and records under one
    /// lock per tenant (<see cref="Jobs.JobQueue"/>), so two submissions cannot both take the last slot. No 80 % warning:
    /// the count goes up and down by the minute.
    /// </summary>
    public async Task EnsureJobAsync(int unfinished, long limit, string kind, CancellationToken cancellationToken)
    {
        if (unfinished + 1 <= limit)
        {
            return;
        }

        var name = _call.Workspace.Name;
        await _events.PublishAsync(new TenantQuotaCrossed(name, "jobs", "exceeded", unfinished + 1, limit, $"{kind} job"), cancellationToken);
        throw new LifeboatException(ErrorCode.QuotaExceeded,
            $"the {kind} job was refused: tenant '{name}' has {unfinished} job(s) queued, running or awaiting approval, and its quota is {limit} at once; nothing was started",
            "submit it again when one ends (`GET /api/v1/jobs?state=running`), cancel one, or ask a superadmin to raise the quota (`lifeboat tenant quota NAME --jobs N`)");
    }

    /// <summary>
    /// Refuses an operation whose estimated stored bytes would take the tenant over its stored-bytes quota. Returns the
    /// quota and the use it was checked against (null when the tenant has none), for an operation that also checks
    /// while it writes (<see cref="StoredExceededAsync"/>).
    /// </summary>
    /// <param name="estimate">What the operation will store (asked only when there is a quota).</param>
    public async Task<StoredQuota?> EnsureStoredAsync(Func<Task<Operations.SpaceEstimate>> estimate, string operation, CancellationToken cancellationToken)
    {
        if (await _gate.CurrentAsync(cancellationToken) is not { QuotaStoredBytes: { } limit } tenant)
        {
            return null;
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        var quota = new StoredQuota(tenant.Name, (await catalog.UsageAsync(cancellationToken)).StoredBytes, limit);
        var adds = (await estimate()).Stored;
        if (quota.Used + adds > limit)
        {
            throw await StoredExceededAsync(quota, adds, operation, cancellationToken);
        }

        if (quota.Used + adds >= limit * 0.8 && quota.Used < limit * 0.8)
        {
            await _events.PublishAsync(new TenantQuotaCrossed(tenant.Name, "stored-bytes", "warning", quota.Used + adds, limit, operation), cancellationToken);
        }

        return quota;
    }

    /// <summary>Publishes <c>tenant.quota.exceeded</c> and returns the refusal: <paramref name="adds"/> more bytes would take the tenant over <paramref name="quota"/>.</summary>
    public async Task<LifeboatException> StoredExceededAsync(StoredQuota quota, long adds, string operation, CancellationToken cancellationToken)
    {
        await _events.PublishAsync(new TenantQuotaCrossed(quota.Tenant, "stored-bytes", "exceeded", quota.Used + adds, quota.Limit, operation), cancellationToken);
        return new LifeboatException(ErrorCode.QuotaExceeded,
            $"{operation} refused: tenant '{quota.Tenant}' stores {ByteSize.Format(quota.Used)} of its {ByteSize.Format(quota.Limit)} quota, and this would add about {ByteSize.Format(adds)}; nothing was written",
            "forget or expire old backups and prune, or ask a superadmin to raise the quota (`lifeboat tenant quota NAME --stored SIZE`)");
    }
}

/// <summary>A tenant's stored-bytes quota and its use when an operation was admitted.</summary>
public sealed record StoredQuota(string Tenant, long Used, long Limit)
{
    /// <summary>What the operation may still add.</summary>
    public long Headroom => Math.Max(0, Limit - Used);
}

/// <summary>
/// The tenant registry as the server's own passes read it (the tenant middleware, the tenants' schedulers, the API-call
/// counter): server-wide, on the server's workspace, so the adapters never hold a catalog themselves.
/// </summary>
public static class TenantRegistry
{
    /// <summary>The tenant of that name, or null.</summary>
    public static async Task<TenantRecord?> FindAsync(Workspace host, string name, TimeProvider time, CancellationToken cancellationToken)
        => await (await new CatalogAccess(host, time).OpenAsync(cancellationToken)).TenantAsync(name, cancellationToken);

    /// <summary>Every tenant, by name.</summary>
    public static async Task<IReadOnlyList<TenantRecord>> ListAsync(Workspace host, TimeProvider time, CancellationToken cancellationToken)
        => await (await new CatalogAccess(host, time).OpenAsync(cancellationToken)).TenantsAsync(null, null, cancellationToken);

    /// <summary>Adds API calls counted in memory (tenant, day yyyy-MM-dd, calls) to the catalog.</summary>
    public static async Task CountApiCallsAsync(Workspace host, TimeProvider time, IEnumerable<(string Tenant, string Day, long Calls)> counts, CancellationToken cancellationToken)
    {
        var catalog = await new CatalogAccess(host, time).OpenAsync(cancellationToken);
        foreach (var (tenant, day, calls) in counts)
        {
            await catalog.CountApiCallsAsync(tenant, day, calls, cancellationToken);
        }
    }
}
