using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Audit;

/// <param name="Since">Entries at or after this time: an ISO 8601 time, or a duration back from now (24h, 7d).</param>
/// <param name="Until">Entries before this time (same forms).</param>
/// <param name="Actor">Only entries of this actor (its name: a user, a token's name, a schedule).</param>
/// <param name="Action">Only entries of this action (token.create, …).</param>
/// <param name="Limit">At most this many, newest first (1–1000).</param>
/// <param name="Cursor">The <c>next</c> of the previous page.</param>
public sealed record ListAuditRequest(string? Since = null, string? Until = null, string? Actor = null, string? Action = null, int Limit = 100, string? Cursor = null);

/// <summary>Who made an audited call.</summary>
/// <param name="Kind">cli, token, oidc, scheduler or system.</param>
public sealed record AuditActorView(string Kind, string Name, string? TokenId, string? Role, string? RemoteAddress);

/// <summary>One entry of the audit trail.</summary>
public sealed record AuditView(string Id, DateTimeOffset Time, string Tenant, AuditActorView Actor, string Action, string? Target, IReadOnlyDictionary<string, string?>? Parameters, string Result, int Status, string CorrelationId)
{
    public static AuditView From(AuditRecord r) => new(
        r.Id, r.Time, r.Tenant, new AuditActorView(r.ActorKind, r.Actor, r.TokenId, r.Role, r.RemoteAddress), r.Action, r.Target,
        r.Parameters is null ? null : JsonSerializer.Deserialize(r.Parameters, LifeboatJson.Compact.IReadOnlyDictionaryStringString), r.Result, r.Status, r.CorrelationId);
}

/// <summary>A page of the audit trail, newest first; <see cref="Next"/> asks for the following page (null: this was the last).</summary>
public sealed record ListAuditResult(IReadOnlyList<AuditView> Items, string? Next);

/// <summary>The audit trail of the call's tenant, newest first, filtered and paged with a cursor.</summary>
public sealed class ListAudit : IUseCase<ListAuditRequest, ListAuditResult>
{
    public const int MaxLimit = 1000;

    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public ListAudit(Workspace workspace, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
    }

    public async Task<ListAuditResult> ExecuteAsync(ListAuditRequest request, CancellationToken cancellationToken)
    {
        if (request.Limit is < 1 or > MaxLimit)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«limit» {request.Limit} is out of range", $"ask for 1 to {MaxLimit} entries");
        }

        var now = _time.GetUtcNow();
        var since = Time(request.Since, "since", now);
        var until = Time(request.Until, "until", now);
        var before = request.Cursor is null ? ((DateTimeOffset, string)?)null : DecodeCursor(request.Cursor);
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var records = await catalog.AuditAsync(new AuditQuery(_workspace.Name, since, until, Blank(request.Actor), Blank(request.Action), request.Limit + 1, before), cancellationToken);
        var page = records.Take(request.Limit).ToList();
        var next = records.Count > request.Limit ? EncodeCursor(page[^1]) : null;
        return new ListAuditResult(page.Select(AuditView.From).ToList(), next);
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static DateTimeOffset? Time(string? text, string field, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Duration.TryParse(text, out var ago))
        {
            return now - ago;
        }

        if (TimeParsing.TryParse(text, out var time))
        {
            return time;
        }

        throw new LifeboatException(ErrorCode.Usage, $"«{field}» '{text}' is neither a time nor a duration", "write a time with an offset (2026-11-22T14:03:00Z) or how long ago (24h, 7d)");
    }

    private static string EncodeCursor(AuditRecord last) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(last.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + "|" + last.Id));

    private static (DateTimeOffset, string) DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0 && TimeParsing.TryParse(text[..bar], out var time))
            {
                return (time, text[(bar + 1)..]);
            }
        }
        catch (FormatException)
        {
        }

        throw new LifeboatException(ErrorCode.Usage, $"«cursor» '{cursor}' is not a cursor of the audit trail", "pass the `next` of the previous page unchanged, or leave it out for the first page");
    }
}
