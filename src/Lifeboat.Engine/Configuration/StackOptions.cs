using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>Stacks:NAME: an application's sources (databases, clusters, files, config sets), one consistent point.</summary>
public sealed class StackOptions
{
    /// <summary>The member sources (at most one stack backup runs them in kind order: databases, clusters, files, config).</summary>
    public List<string> Sources { get; set; } = [];

    internal void Validate(string name, string configPath, LifeboatOptions options)
    {
        if (Sources.Count == 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"stack '{name}' in {configPath} has no sources", $"set Stacks:{name}:Sources to the application's sources, or run `lifeboat stack add {name} --sources A,B,C`");
        }

        foreach (var member in Sources)
        {
            if (!options.Sources.ContainsKey(member))
            {
                throw new LifeboatException(ErrorCode.Config, $"stack '{name}' in {configPath} names the source '{member}', which is not configured", $"add the source first (`lifeboat source list` shows the configured ones) or remove it from Stacks:{name}:Sources");
            }
        }

        var twice = Sources.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new LifeboatException(ErrorCode.Config, $"stack '{name}' in {configPath} names the source '{twice.Key}' twice", $"list each source once in Stacks:{name}:Sources");
        }
    }
}
