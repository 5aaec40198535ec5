using System.Text;

namespace Lifeboat.Postgres.Connections;

/// <summary>
/// The password file, as libpq reads it (passwordFromFile): <c>hostname:port:database:username:password</c> lines,
/// '*' matching anything in the first four fields, '\' escaping ':' and '\', '#' starting a comment line, the first
/// matching line winning. A Unix socket in the default directory matches "localhost". The file is ignored when it is
/// not a regular file or when its group or others may read it (libpq warns and ignores it too).
/// </summary>
public static class PgPassFile
{
    /// <summary>The password for that connection, or null (no file, no matching line, or a file others may read).</summary>
    public static string? Find(string file, string host, string port, string database, string user)
    {
        const UnixFileMode groupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        try
        {
            if (!File.Exists(file) || (File.GetUnixFileMode(file) & groupOrOthers) != 0)
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (host.Length == 0 || host == PgConnection.DefaultSocketDirectory)
        {
            host = "localhost";
        }

        foreach (var line in lines)
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var fields = Split(line);
            if (fields.Count >= 5 && Matches(fields[0], host) && Matches(fields[1], port) && Matches(fields[2], database) && Matches(fields[3], user))
            {
                return fields[4];
            }
        }

        return null;
    }

    private static bool Matches(string field, string value) => field == "*" || field == value;

    /// <summary>The four ':'-separated fields, then the rest of the line as the password, with escapes undone.</summary>
    private static List<string> Split(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length)
            {
                current.Append(line[++i]);
            }
            else if (line[i] == ':' && fields.Count < 4)
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(line[i]);
            }
        }

        fields.Add(current.ToString());
        return fields;
    }
}
