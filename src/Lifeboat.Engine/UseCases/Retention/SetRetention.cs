using System.Text.Json.Nodes;
using Lifeboat.Core.Retention;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Replication;

namespace Lifeboat.Engine.UseCases.Retention;

/// <param name="Source">The source whose Sources:NAME:Retention is replaced.</param>
public sealed record SetRetentionRequest(string Source, RetentionSettings Settings);

/// <param name="Previous">The policy before, for people.</param>
/// <param name="Shortened">The new policy keeps less than the old in some respect (it passed the approval gate).</param>
public sealed record SetRetentionResult(SourceRetention Retention, string Previous, bool Shortened, string ConfigPath);

/// <summary>
/// <c>PUT /api/v1/retention/{source}</c>: replaces a source's retention policy in the configuration. Shortening it is
/// destructive (the next expire deletes what the old policy kept) and must pass the approval gate
/// (<see cref="DestructiveOperations.ShortenRetention"/>); see <see cref="Shortens"/> for what counts.
/// </summary>
public sealed class SetRetention : IUseCase<SetRetentionRequest, SetRetentionResult>
{
    private readonly Workspace _workspace;
    private readonly IApprovalGate _gate;
    private readonly Events _events;

    public SetRetention(Workspace workspace, IApprovalGate gate, Events events)
    {
        _workspace = workspace;
        _gate = gate;
        _events = events;
    }

    public async Task<SetRetentionResult> ExecuteAsync(SetRetentionRequest request, CancellationToken cancellationToken)
    {
        var source = _workspace.GetSource(request.Source);
        var options = (request.Settings ?? new RetentionSettings()).ToOptions();
        var before = source.Retention.ToPolicy();
        var after = options.ToPolicy();
        var shortened = Shortens(before, after);
        if (shortened)
        {
            await _gate.AuthorizeAsync(
                new DestructiveOperation(DestructiveOperations.ShortenRetention, request.Source, $"shorten the retention of source '{request.Source}' from {before} to {after}: the next expire deletes what only the old policy kept",
                    new Dictionary<string, string?> { ["source"] = request.Source, ["from"] = before.ToString(), ["to"] = after.ToString() }),
                cancellationToken);
        }

        _workspace.EditConfig(root =>
        {
            var sources = ConfigFile.Section(root, "Sources");
            var section = ConfigFile.Section(sources, request.Source);
            var retention = ConfigJson.Section(options);
            if (retention.Count == 0)
            {
                section.Remove("Retention");
            }
            else
            {
                section["Retention"] = (JsonNode)retention;
            }
        });
        await _events.PublishAsync(new ConfigurationChanged("retention", shortened ? "shortened" : "changed", request.Source, source.Kind, after.ToString()), cancellationToken);
        return new SetRetentionResult(SourceRetention.From(request.Source, _workspace.GetSource(request.Source), _workspace.All()), before.ToString(), shortened, _workspace.Config.Path);
    }

    /// <summary>
    /// Whether <paramref name="after"/> may keep less than <paramref name="before"/>: it sets a rule where there was none
    /// (keep everything), lowers a count (an unset count is 0) or the minimum, shortens the PITR window, or moves the
    /// calendar buckets to another time zone.
    /// </summary>
    public static bool Shortens(RetentionPolicy before, RetentionPolicy after)
    {
        if (after.KeepsEverything)
        {
            return false;
        }

        if (before.KeepsEverything)
        {
            return true;
        }

        var lower = (before.KeepLast ?? 0) > (after.KeepLast ?? 0)
            || (before.KeepDaily ?? 0) > (after.KeepDaily ?? 0)
            || (before.KeepWeekly ?? 0) > (after.KeepWeekly ?? 0)
            || (before.KeepMonthly ?? 0) > (after.KeepMonthly ?? 0)
            || (before.KeepYearly ?? 0) > (after.KeepYearly ?? 0)
            || (before.PitrWindow ?? TimeSpan.Zero) > (after.PitrWindow ?? TimeSpan.Zero)
            || before.MinimumKeep > after.MinimumKeep;
        var calendar = after.KeepDaily is > 0 || after.KeepWeekly is > 0 || after.KeepMonthly is > 0 || after.KeepYearly is > 0;
        return lower || (calendar && !string.Equals(before.TimeZone ?? "", after.TimeZone ?? "", StringComparison.Ordinal));
    }
}
