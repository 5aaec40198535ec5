using System.Globalization;

namespace Lifeboat.Platform;

/// <summary>
/// User and group names from /etc/passwd and /etc/group (read once), so that a backup records owners by name and a
/// restore on another host maps them back to that host's ids.
/// </summary>
public static class UserNames
{
    private static readonly Lazy<(Dictionary<long, string> ById, Dictionary<string, long> ByName)> Users = new(() => Read("/etc/passwd"));
    private static readonly Lazy<(Dictionary<long, string> ById, Dictionary<string, long> ByName)> Groups = new(() => Read("/etc/group"));

    public static string? UserName(long uid) => Users.Value.ById.GetValueOrDefault(uid);

    public static string? GroupName(long gid) => Groups.Value.ById.GetValueOrDefault(gid);

    /// <summary>The local uid of a user name, or <paramref name="fallback"/> when the name is unknown here.</summary>
    public static long Uid(string? name, long fallback) => name is not null && Users.Value.ByName.TryGetValue(name, out var id) ? id : fallback;

    public static long Gid(string? name, long fallback) => name is not null && Groups.Value.ByName.TryGetValue(name, out var id) ? id : fallback;

    private static (Dictionary<long, string>, Dictionary<string, long>) Read(string path)
    {
        var byId = new Dictionary<long, string>();
        var byName = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var f = line.Split(':');
                if (f.Length > 2 && long.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    byId.TryAdd(id, f[0]);
                    byName.TryAdd(f[0], id);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return (byId, byName);
    }
}
