using System.Text;

namespace Lifeboat.Core;

/// <summary>
/// References to request fields inside messages and hints. The Engine never spells a command-line flag: it writes
/// <c>«to»</c> for the request field <c>to</c>, and each adapter renders the reference in its own words — the CLI as
/// its flag (<c>--to</c>), the API as the JSON field (<c>`to`</c>). Field names are camelCase, as in the API.
/// </summary>
public static class FieldText
{
    public const char Open = '«';
    public const char Close = '»';

    /// <summary>A reference to the request field <paramref name="name"/>, for use inside a message or hint.</summary>
    public static string Ref(string name) => $"{Open}{name}{Close}";

    /// <summary>The field names referenced in <paramref name="text"/>, in order, each once.</summary>
    public static IReadOnlyList<string> Referenced(string? text)
    {
        var names = new List<string>();
        if (text is null)
        {
            return names;
        }

        for (var i = text.IndexOf(Open, StringComparison.Ordinal); i >= 0; i = text.IndexOf(Open, i + 1))
        {
            var end = text.IndexOf(Close, i + 1);
            if (end < 0)
            {
                break;
            }

            var name = text[(i + 1)..end];
            if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>Replaces every reference with what <paramref name="render"/> makes of its field name.</summary>
    public static string Render(string text, Func<string, string> render)
    {
        if (text.IndexOf(Open, StringComparison.Ordinal) < 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        var at = 0;
        for (var i = text.IndexOf(Open, StringComparison.Ordinal); i >= 0; i = text.IndexOf(Open, at))
        {
            var end = text.IndexOf(Close, i + 1);
            if (end < 0)
            {
                break;
            }

            sb.Append(text, at, i - at).Append(render(text[(i + 1)..end]));
            at = end + 1;
        }

        return sb.Append(text, at, text.Length - at).ToString();
    }

    /// <summary>The command-line spelling of a field: <c>targetTime</c> → <c>--target-time</c>.</summary>
    public static string AsFlag(string name)
    {
        var sb = new StringBuilder("--", name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsUpper(c))
            {
                sb.Append('-').Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>The API's spelling of a field: the JSON name in backticks.</summary>
    public static string AsJsonField(string name) => $"`{name}`";
}
