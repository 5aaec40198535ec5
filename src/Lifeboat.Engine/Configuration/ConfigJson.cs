using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// Writes options into the configuration file as a person would: PascalCase keys, and only what differs from the
/// defaults (a files source is written as its Kind and Path, not as every setting it could have).
/// </summary>
public static class ConfigJson
{
    /// <summary>The section for <paramref name="value"/>: its settings that differ from <paramref name="defaults"/>'s.</summary>
    public static JsonObject Section<T>(T value, T defaults, JsonTypeInfo<T> info)
    {
        var node = JsonSerializer.SerializeToNode(value, info)!.AsObject();
        var baseline = JsonSerializer.SerializeToNode(defaults, info)!.AsObject();
        Prune(node, baseline);
        return node;
    }

    public static JsonObject Section(SourceOptions source) => source switch
    {
        FilesSourceOptions f => Keep(Section(f, new FilesSourceOptions(), ConfigJsonContext.Default.FilesSourceOptions), f.Kind),
        ClusterSourceOptions c => Keep(Section(c, new ClusterSourceOptions(), ConfigJsonContext.Default.ClusterSourceOptions), c.Kind),
        DatabaseSourceOptions d => Keep(Section(d, new DatabaseSourceOptions(), ConfigJsonContext.Default.DatabaseSourceOptions), d.Kind),
        ConfigSourceOptions c => Keep(Section(c, new ConfigSourceOptions(), ConfigJsonContext.Default.ConfigSourceOptions), c.Kind),
        _ => throw new ArgumentException($"unknown source options {source.GetType().Name}", nameof(source)),
    };

    public static JsonObject Section(TargetOptions target) => Section(target, new TargetOptions(), ConfigJsonContext.Default.TargetOptions);

    public static JsonObject Section(StackOptions stack) => Section(stack, new StackOptions(), ConfigJsonContext.Default.StackOptions);

    public static JsonObject Section(ScheduleOptions schedule) => Section(schedule, new ScheduleOptions(), ConfigJsonContext.Default.ScheduleOptions);

    public static JsonObject Section(RetentionOptions retention) => Section(retention, new RetentionOptions(), ConfigJsonContext.Default.RetentionOptions);

    /// <summary>The kind comes first and is always written (it says which options type the section is).</summary>
    private static JsonObject Keep(JsonObject section, string kind)
    {
        var result = new JsonObject { ["Kind"] = kind };
        foreach (var (key, value) in section.ToList())
        {
            if (key != "Kind")
            {
                section.Remove(key);
                result[key] = value;
            }
        }

        return result;
    }

    private static void Prune(JsonObject node, JsonObject baseline)
    {
        foreach (var (key, value) in node.ToList())
        {
            var other = baseline[key];
            if (value is JsonObject child && other is JsonObject otherChild)
            {
                Prune(child, otherChild);
                if (child.Count == 0)
                {
                    node.Remove(key);
                }
            }
            else if (value is null || JsonNode.DeepEquals(value, other) || value is JsonArray { Count: 0 })
            {
                node.Remove(key);
            }
        }
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FilesSourceOptions))]
[JsonSerializable(typeof(ClusterSourceOptions))]
[JsonSerializable(typeof(DatabaseSourceOptions))]
[JsonSerializable(typeof(ConfigSourceOptions))]
[JsonSerializable(typeof(TargetOptions))]
[JsonSerializable(typeof(StackOptions))]
[JsonSerializable(typeof(ScheduleOptions))]
[JsonSerializable(typeof(RetentionOptions))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
