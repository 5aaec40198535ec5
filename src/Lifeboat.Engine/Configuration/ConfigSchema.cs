using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Lifeboat.Core;
using Microsoft.Extensions.Configuration;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// The settings the options types have, to name an unknown one before binding: its JSON path in the file
/// (<c>Sources.uploads.Retention.KeepDaly</c>, <c>Events.Routes[1].Chanels</c>) and the nearest known setting. The binder
/// refuses unknown settings too (ErrorOnUnknownConfiguration), but says only the key and the options type.
/// </summary>
/// <remarks>
/// Every options type is listed here once (a test checks that each type reachable from <see cref="LifeboatOptions"/>
/// is); the property lists are read from the listed types only, so trimming keeps what they need. A class that is not
/// listed is not checked here (the binder still refuses what it does not know), so a missing entry never rejects a valid
/// configuration.
/// </remarks>
internal static class ConfigSchema
{
    private static readonly Dictionary<Type, PropertyInfo[]> Types = new()
    {
        [typeof(LifeboatOptions)] = Properties(typeof(LifeboatOptions)),
        [typeof(RepositoryOptions)] = Properties(typeof(RepositoryOptions)),
        [typeof(CatalogOptions)] = Properties(typeof(CatalogOptions)),
        [typeof(TenantsOptions)] = Properties(typeof(TenantsOptions)),
        [typeof(ApprovalsOptions)] = Properties(typeof(ApprovalsOptions)),
        [typeof(ApprovalPolicyOptions)] = Properties(typeof(ApprovalPolicyOptions)),
        [typeof(HealthOptions)] = Properties(typeof(HealthOptions)),
        [typeof(ScheduleOptions)] = Properties(typeof(ScheduleOptions)),
        [typeof(TargetOptions)] = Properties(typeof(TargetOptions)),
        [typeof(DrillOptions)] = Properties(typeof(DrillOptions)),
        [typeof(DrillSourceOptions)] = Properties(typeof(DrillSourceOptions)),
        [typeof(SmokeQueryOptions)] = Properties(typeof(SmokeQueryOptions)),
        [typeof(WalFetchOptions)] = Properties(typeof(WalFetchOptions)),
        [typeof(ServerOptions)] = Properties(typeof(ServerOptions)),
        [typeof(JwtOptions)] = Properties(typeof(JwtOptions)),
        [typeof(StackOptions)] = Properties(typeof(StackOptions)),
        [typeof(EventsOptions)] = Properties(typeof(EventsOptions)),
        [typeof(WebhookOptions)] = Properties(typeof(WebhookOptions)),
        [typeof(ChannelOptions)] = Properties(typeof(ChannelOptions)),
        [typeof(RouteOptions)] = Properties(typeof(RouteOptions)),
        [typeof(RetentionOptions)] = Properties(typeof(RetentionOptions)),
        [typeof(FilesSourceOptions)] = Properties(typeof(FilesSourceOptions)),
        [typeof(ClusterSourceOptions)] = Properties(typeof(ClusterSourceOptions)),
        [typeof(DatabaseSourceOptions)] = Properties(typeof(DatabaseSourceOptions)),
        [typeof(ConfigSourceOptions)] = Properties(typeof(ConfigSourceOptions)),
    };

    /// <summary>The options types this schema checks (for the test that every reachable type is listed).</summary>
    internal static IReadOnlyCollection<Type> Listed => Types.Keys;

    /// <summary>An unknown setting: where it is, its key, and the nearest known key of its section (or null).</summary>
    internal sealed record Unknown(string JsonPath, string ConfigurationPath, string Key, string? Nearest);

    /// <summary>The first unknown setting in <paramref name="configuration"/> (sections in key order), or null.</summary>
    internal static Unknown? FindUnknown(IConfiguration configuration) => Walk(configuration, typeof(LifeboatOptions), "", "");

    /// <summary>
    /// Throws a configuration error (exit 2) naming the first unknown setting: its JSON path, that it is unknown, the
    /// nearest known setting, and whether a LIFEBOAT__ variable set it rather than the file.
    /// </summary>
    internal static void CheckKnown(IConfiguration configuration, IConfiguration? fileOnly, string configPath)
    {
        if (FindUnknown(configuration) is not { } unknown)
        {
            return;
        }

        var inFile = fileOnly is not null && (fileOnly[unknown.ConfigurationPath] is not null || fileOnly.GetSection(unknown.ConfigurationPath).GetChildren().Any());
        var where = inFile ? $"the configuration file {configPath}" : $"the variable {ConfigFile.EnvironmentPrefix}{unknown.ConfigurationPath.Replace(":", "__", StringComparison.Ordinal)}";
        var suggestion = unknown.Nearest is null ? "" : $" (did you mean `{Parent(unknown.JsonPath)}{unknown.Nearest}`?)";
        throw new LifeboatException(
            ErrorCode.Config,
            $"{where} has an unknown setting `{unknown.JsonPath}`: Lifeboat has no setting '{unknown.Key}' there{suggestion}",
            unknown.Nearest is null
                ? "remove it, or see docs/configuration.md for the settings"
                : $"rename it to {unknown.Nearest}, or remove it (docs/configuration.md lists the settings)");
    }

    private static string Parent(string jsonPath)
    {
        var dot = jsonPath.LastIndexOf('.');
        return dot < 0 ? "" : jsonPath[..(dot + 1)];
    }

    private static Unknown? Walk(IConfiguration section, Type type, string jsonPath, string configPath)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(SourceOptions))
        {
            // Sources:NAME is bound into the options type of its Kind (SourceOptions.Bind); an unknown kind is its own error.
            var kind = section["Kind"] ?? SourceKinds.Files;
            type = kind switch
            {
                SourceKinds.Files => typeof(FilesSourceOptions),
                SourceKinds.Cluster => typeof(ClusterSourceOptions),
                SourceKinds.Database => typeof(DatabaseSourceOptions),
                SourceKinds.Config => typeof(ConfigSourceOptions),
                _ => typeof(object),
            };
        }

        if (Types.TryGetValue(type, out var properties))
        {
            foreach (var child in section.GetChildren())
            {
                var path = Join(jsonPath, child.Key);
                var property = properties.FirstOrDefault(p => p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase));
                if (property is null)
                {
                    return new Unknown(path, child.Path, child.Key, Nearest.Match(child.Key, properties.Select(p => p.Name)));
                }

                if (Walk(child, property.PropertyType, path, child.Path) is { } found)
                {
                    return found;
                }
            }

            return null;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GetGenericArguments()[0] == typeof(string))
        {
            var value = type.GetGenericArguments()[1];
            foreach (var child in section.GetChildren())
            {
                if (Walk(child, value, Join(jsonPath, child.Key), child.Path) is { } found)
                {
                    return found;
                }
            }

            return null;
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var element = type.GetGenericArguments()[0];
            foreach (var child in section.GetChildren())
            {
                if (Walk(child, element, $"{jsonPath}[{child.Key}]", child.Path) is { } found)
                {
                    return found;
                }
            }
        }

        // A value (string, number, TimeSpan…) or a type not listed: the binder checks it.
        return null;
    }

    private static string Join(string jsonPath, string key) => jsonPath.Length == 0 ? key : jsonPath + "." + key;

    private static PropertyInfo[] Properties([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
}
