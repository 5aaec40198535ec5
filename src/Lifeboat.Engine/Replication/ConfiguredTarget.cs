using Lifeboat.Core;
using Lifeboat.Core.Retention;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.Replication;

/// <summary>
/// A target of the repository as the configuration names it: the primary (Repository:Url, called <c>primary</c>) or a
/// secondary (Targets:NAME).
/// </summary>
public sealed record ConfiguredTarget(string Name, string Url, TargetOptions? Options)
{
    public bool IsPrimary => Options is null;

    public string Display => $"{Name} ({Redact.Url(Url)})";

    /// <summary>The retention this target applies to a source: the target's own, else the source's, else keep everything.</summary>
    public RetentionPolicy PolicyFor(SourceOptions? source)
        => Options?.Retention?.ToPolicy() ?? source?.Retention.ToPolicy() ?? new RetentionPolicy();

    /// <summary>A description of the target's retention for people.</summary>
    public string RetentionText => Options?.Retention is { } r ? r.ToPolicy().ToString() : "each source's own";
}

public static class TargetSet
{
    /// <summary>Every target: the primary first, then the secondaries by name (the order reads fall back in).</summary>
    public static IReadOnlyList<ConfiguredTarget> All(this Workspace context)
    {
        var list = new List<ConfiguredTarget> { new(TargetOptions.PrimaryName, context.RepositoryUrl, null) };
        list.AddRange(context.Secondaries());
        return list;
    }

    public static IReadOnlyList<ConfiguredTarget> Secondaries(this Workspace context)
        => context.Options.Targets.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new ConfiguredTarget(t.Key, t.Value.Url!, t.Value)).ToList();

    /// <summary>The target named <paramref name="name"/> (<c>primary</c> or a configured secondary); exit 2 when unknown.</summary>
    public static ConfiguredTarget Target(this Workspace context, string name)
    {
        var all = context.All();
        return all.FirstOrDefault(t => t.Name == name)
               ?? throw new LifeboatException(ErrorCode.InvalidInput, $"there is no target '{name}' in {context.Config.Path} (targets: {string.Join(", ", all.Select(t => t.Name))})", "`lifeboat repo target list` shows them; add one with `lifeboat repo target add NAME URL`");
    }
}
