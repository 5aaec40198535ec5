using System.Globalization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.UseCases.Repositories;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Engine.UseCases.Tenants;

/// <param name="Name">The tenant's name (<c>[a-z0-9][a-z0-9-]{0,62}</c>).</param>
/// <param name="Repo">Its repository; default: a local repository in its directory.</param>
/// <param name="QuotaStored">Stored-bytes quota (1TiB); null: none.</param>
public sealed record AddTenantRequest(string Name, string? DisplayName = null, string? Repo = null, string? QuotaStored = null, long? QuotaSources = null, long? QuotaJobs = null);

public sealed record ListTenantsRequest(string? Search = null, string? State = null);

public sealed record TenantRequest(string Name);

public sealed record ChangeTenantRequest(string Name, string? Reason = null);

/// <param name="QuotaStored">A size (500GiB), "none" to remove it, null to leave it.</param>
public sealed record SetTenantQuotasRequest(string Name, string? QuotaStored = null, long? QuotaSources = null, long? QuotaJobs = null, bool ClearSources = false, bool ClearJobs = false);

/// <summary>A tenant's quotas; null: none.</summary>
public sealed record TenantQuotas(long? StoredBytes, long? Sources, long? Jobs);

/// <summary>What a tenant holds and does (docs/tenants.md, "Usage").</summary>
/// <param name="StoredBytes">Bytes its backups and WAL take in its repository after dedup and compression.</param>
/// <param name="LogicalBytes">Bytes its backups protect.</param>
/// <param name="DedupRatio">Logical / stored bytes (null before the first backup).</param>
/// <param name="ApiCalls30d">API calls of its tokens in the last 30 days.</param>
public sealed record TenantUsage(long StoredBytes, long LogicalBytes, double? DedupRatio, int Sources, long Backups, DateTimeOffset? LastBackup, DateTimeOffset? LastDrill, string? LastDrillResult, long ApiCalls30d);

/// <param name="Directory">Where its configuration, key and (by default) repository are.</param>
public sealed record TenantView(string Name, string DisplayName, string State, DateTimeOffset Created, string CreatedBy, DateTimeOffset StateChanged, string? StateReason, DateTimeOffset? RemoveAfter, TenantQuotas Quotas, TenantUsage? Usage, string Directory);

public sealed record TenantList(IReadOnlyList<TenantView> Items);

/// <param name="KeyFile">The tenant repository's key file (keep a copy off this machine: it alone opens the tenant's repository).</param>
public sealed record AddedTenant(TenantView Tenant, string Repository, string KeyFile);

/// <summary>
/// The tenant registry (docs/tenants.md), for a superadmin (the API's <c>manage-tenants</c> permission) or the server's
/// host at the command line: every operation runs in the server's own (default) workspace.
/// </summary>
public sealed class TenantAdmin
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private readonly AuditTrail _audit;
    private readonly IServiceScopeFactory _scopes;
    private readonly IApprovalGate _gate;
    private readonly Events _events;

    public TenantAdmin(CallContext call, CatalogAccess catalog, TimeProvider time, AuditTrail audit, IServiceScopeFactory scopes, IApprovalGate gate, Events events)
    {
        _call = call;
        _catalog = catalog;
        _time = time;
        _audit = audit;
        _scopes = scopes;
        _gate = gate;
        _events = events;
    }

    private Workspace Host
    {
        get
        {
            var workspace = _call.Workspace;
            return workspace.Name == Workspace.DefaultName
                ? workspace
                : throw new LifeboatException(ErrorCode.Refused, $"tenants are managed from the server's own workspace, not from tenant '{workspace.Name}'", "use a superadmin token of the server (or the server's configuration at the command line)");
        }
    }

    public async Task<AddedTenant> AddAsync(AddTenantRequest request, CancellationToken cancellationToken)
    {
        var host = Host;
        var name = TenantNames.Validate(request.Name?.Trim() ?? "", "name");
        var quotaStored = ParseQuota(request.QuotaStored, "quotaStored");
        CheckCount(request.QuotaSources, "quotaSources");
        CheckCount(request.QuotaJobs, "quotaJobs");
        var catalog = await _catalog.OpenAsync(cancellationToken);
        if (await catalog.TenantAsync(name, cancellationToken) is not null)
        {
            throw new LifeboatException(ErrorCode.Refused, $"a tenant named '{name}' already exists", "choose another name (`lifeboat tenant list` shows them)");
        }

        var directory = TenantWorkspaces.DirectoryOf(host, name);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            throw new LifeboatException(ErrorCode.Refused, $"{directory}, the directory of tenant '{name}', exists and is not empty", "remove it or choose another name; nothing was changed");
        }

        Directory.CreateDirectory(TenantWorkspaces.Directory(host));
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var keyFile = Path.Combine(directory, "repository.key");
        var repo = request.Repo ?? new Uri(Path.Combine(directory, "repository")).AbsoluteUri;
        InitRepositoryResult init;
        try
        {
            // The tenant's repository, with a master key of its own, initialised as `repo init` does in its workspace.
            using var scope = _scopes.CreateScope();
            var call = scope.ServiceProvider.GetRequiredService<CallContext>();
            call.Workspace = TenantWorkspaces.Open(host, name, new KeyOptions { KeyFile = keyFile });
            call.Actor = _call.Actor;
            call.CorrelationId = _call.CorrelationId;
            init = await scope.ServiceProvider.GetRequiredService<InitRepository>().ExecuteAsync(new InitRepositoryRequest(repo), cancellationToken);
        }
        catch
        {
            // Nothing half-made stays behind: the next `tenant add` of the name starts clean.
            Directory.Delete(directory, recursive: true);
            throw;
        }

        var now = _time.GetUtcNow();
        var record = new TenantRecord
        {
            Name = name,
            DisplayName = string.IsNullOrWhiteSpace(request.DisplayName) ? name : request.DisplayName.Trim(),
            State = TenantRecord.Active,
            Created = now,
            CreatedBy = $"{_call.Actor.Kind}:{_call.Actor.Name}",
            StateChanged = now,
            QuotaStoredBytes = quotaStored,
            QuotaSources = request.QuotaSources,
            QuotaJobs = request.QuotaJobs,
        };
        await _events.PublishWithAsync(new TenantChanged(name, "added", _call.Actor.Name), async events =>
        {
            if (!await catalog.InsertTenantAsync(record, events, cancellationToken))
            {
                throw new LifeboatException(ErrorCode.Refused, $"a tenant named '{name}' was added at the same time", "`lifeboat tenant list` shows it");
            }
        });
        await _audit.RecordAsync(new AuditEntry("tenant.add", name, new Dictionary<string, string?> { ["repo"] = Redact.Url(init.Repository), ["quotaStored"] = request.QuotaStored }, AuditResults.Succeeded, 201), cancellationToken);
        return new AddedTenant(View(record, null, directory), init.Repository, keyFile);
    }

    public async Task<TenantList> ListAsync(ListTenantsRequest request, CancellationToken cancellationToken)
    {
        var host = Host;
        if (request.State is { } state && state is not (TenantRecord.Active or TenantRecord.Suspended or TenantRecord.Removing))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«state» '{state}' is not a tenant state", "use active, suspended or removing");
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        var tenants = await catalog.TenantsAsync(string.IsNullOrWhiteSpace(request.Search) ? null : request.Search.Trim(), request.State, cancellationToken);
        return new TenantList(tenants.Select(t => View(t, null, TenantWorkspaces.DirectoryOf(host, t.Name))).ToList());
    }

    /// <summary>One tenant with its usage, computed now from its catalog rows and configuration.</summary>
    public async Task<TenantView> ShowAsync(TenantRequest request, CancellationToken cancellationToken)
    {
        var host = Host;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var tenant = await FindAsync(catalog, request.Name, cancellationToken);
        var usage = await UsageAsync(host, catalog, tenant, _time.GetUtcNow(), cancellationToken);
        return View(tenant, usage, TenantWorkspaces.DirectoryOf(host, tenant.Name));
    }

    public Task<TenantView> SuspendAsync(ChangeTenantRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Reason))
        {
            throw new LifeboatException(ErrorCode.Usage, "«reason» is empty", "say why the tenant is suspended (it is shown in every refusal its tokens get)");
        }

        return ChangeAsync(request, [TenantRecord.Active], TenantRecord.Suspended, "suspended", null, cancellationToken);
    }

    public Task<TenantView> ResumeAsync(ChangeTenantRequest request, CancellationToken cancellationToken)
        => ChangeAsync(request, [TenantRecord.Suspended, TenantRecord.Removing], TenantRecord.Active, "resumed", null, cancellationToken);

    /// <summary>
    /// Removal (approval-gated, operation <c>tenant.remove</c>): the tenant becomes <c>removing</c> — it writes nothing,
    /// its schedules stop, WAL archiving goes on — and its data is deleted after Tenants:RemovalGrace; resume keeps it.
    /// </summary>
    public async Task<TenantView> RemoveAsync(ChangeTenantRequest request, CancellationToken cancellationToken)
    {
        var host = Host;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var tenant = await FindAsync(catalog, request.Name, cancellationToken);
        var grace = host.OptionsOrEmpty.Tenants.RemovalGrace;
        await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.RemoveTenant, null, $"remove tenant '{tenant.Name}': its data is deleted after {grace.TotalDays.ToString("0.#", CultureInfo.InvariantCulture)} days", new Dictionary<string, string?>
        {
            ["name"] = tenant.Name,
        }), cancellationToken);
        return await ChangeAsync(request, [TenantRecord.Active, TenantRecord.Suspended], TenantRecord.Removing, "removing", _time.GetUtcNow() + grace, cancellationToken);
    }

    public async Task<TenantView> SetQuotasAsync(SetTenantQuotasRequest request, CancellationToken cancellationToken)
    {
        var host = Host;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var tenant = await FindAsync(catalog, request.Name, cancellationToken);
        CheckCount(request.QuotaSources, "quotaSources");
        CheckCount(request.QuotaJobs, "quotaJobs");
        var stored = request.QuotaStored is null ? tenant.QuotaStoredBytes : request.QuotaStored == "none" ? null : ParseQuota(request.QuotaStored, "quotaStored");
        var sources = request.ClearSources ? null : request.QuotaSources ?? tenant.QuotaSources;
        var jobs = request.ClearJobs ? null : request.QuotaJobs ?? tenant.QuotaJobs;
        await catalog.SetTenantQuotasAsync(tenant.Name, stored, sources, jobs, cancellationToken);
        await _audit.RecordAsync(new AuditEntry("tenant.quota", tenant.Name, new Dictionary<string, string?>
        {
            ["quotaStored"] = stored?.ToString(CultureInfo.InvariantCulture),
            ["quotaSources"] = sources?.ToString(CultureInfo.InvariantCulture),
            ["quotaJobs"] = jobs?.ToString(CultureInfo.InvariantCulture),
        }, AuditResults.Succeeded, 200), cancellationToken);
        return View(await FindAsync(catalog, tenant.Name, cancellationToken), null, TenantWorkspaces.DirectoryOf(host, tenant.Name));
    }

    private async Task<TenantView> ChangeAsync(ChangeTenantRequest request, IReadOnlyList<string> from, string to, string change, DateTimeOffset? removeAfter, CancellationToken cancellationToken)
    {
        var host = Host;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var tenant = await FindAsync(catalog, request.Name, cancellationToken);
        if (!from.Contains(tenant.State))
        {
            throw new LifeboatException(ErrorCode.Refused, $"tenant '{tenant.Name}' is {tenant.State}: it cannot be {change}", tenant.State == TenantRecord.Active ? "it is active already" : $"`lifeboat tenant resume {tenant.Name}` makes it active");
        }

        var reason = string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason.Trim();
        var now = _time.GetUtcNow();
        // The event goes into the tenant's own log (its webhooks hear it) in the same transaction as the change.
        var data = new TenantChanged(tenant.Name, change, _call.Actor.Name, reason);
        var record = EventRecords.From(_events.Envelope(data) with { Tenant = tenant.Name });
        // Removal revokes its tokens in the same transaction: they stop working at once; its data waits for the grace period.
        if (!await catalog.ChangeTenantStateAsync(tenant.Name, from, to, reason, now, removeAfter, [record], cancellationToken, revokeTokens: to == TenantRecord.Removing))
        {
            throw new LifeboatException(ErrorCode.Refused, $"tenant '{tenant.Name}' changed state at the same time", "`lifeboat tenant show` shows its state now");
        }

        await _audit.RecordAsync(new AuditEntry("tenant." + (to == TenantRecord.Active ? "resume" : to == TenantRecord.Suspended ? "suspend" : "remove"), tenant.Name, new Dictionary<string, string?> { ["reason"] = reason }, AuditResults.Succeeded, 200), cancellationToken);
        return View(await FindAsync(catalog, tenant.Name, cancellationToken), null, TenantWorkspaces.DirectoryOf(host, tenant.Name));
    }

    private static async Task<TenantRecord> FindAsync(LifeboatCatalog catalog, string name, CancellationToken cancellationToken)
        => await catalog.TenantAsync(name ?? "", cancellationToken)
           ?? throw new LifeboatException(ErrorCode.NotFound, $"there is no tenant '{name}'", "`lifeboat tenant list` shows the tenants");

    /// <summary>A tenant's usage: its catalog rows (scoped to it), its configuration's sources, its API calls.</summary>
    internal static async Task<TenantUsage> UsageAsync(Workspace host, LifeboatCatalog catalog, TenantRecord tenant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var scoped = catalog.ForTenant(tenant.Name);
        var usage = await scoped.UsageAsync(cancellationToken);
        var drill = (await scoped.DrillsAsync(null, 1, cancellationToken)).FirstOrDefault();
        int sources;
        try
        {
            sources = TenantWorkspaces.Open(host, tenant.Name).OptionsOrEmpty.Sources.Count;
        }
        catch (LifeboatException)
        {
            sources = 0; // a broken configuration is the tenant's to fix; its usage is still shown
        }

        var since = (await scoped.ApiCallsAsync(tenant.Name, DayOf(now.AddDays(-29)), cancellationToken));
        return new TenantUsage(usage.StoredBytes, usage.LogicalBytes, usage.StoredBytes > 0 ? Math.Round((double)usage.LogicalBytes / usage.StoredBytes, 2) : null, sources, usage.Backups, usage.LastBackup, drill?.Finished, drill?.Result, since);
    }

    public static string DayOf(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static TenantView View(TenantRecord t, TenantUsage? usage, string directory)
        => new(t.Name, t.DisplayName, t.State, t.Created, t.CreatedBy, t.StateChanged, t.StateReason, t.RemoveAfter, new TenantQuotas(t.QuotaStoredBytes, t.QuotaSources, t.QuotaJobs), usage, directory);

    private static long? ParseQuota(string? value, string field)
    {
        if (value is null)
        {
            return null;
        }

        var bytes = ByteSize.Parse(value, FieldText.Ref(field));
        return bytes > 0 ? bytes : throw new LifeboatException(ErrorCode.Usage, $"«{field}» '{value}' is not a positive size", "give a size such as 500GiB, or leave it out for no quota");
    }

    private static void CheckCount(long? value, string field)
    {
        if (value is < 1)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«{field}» {value} is not a positive number", "give 1 or more, or leave it out for no quota");
        }
    }
}
