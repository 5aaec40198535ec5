using System.Text;
using System.Text.RegularExpressions;

namespace Lifeboat.Core;

/// <summary>
/// Path globs for include/exclude rules and restore filters (docs/configuration.md):
/// <c>*</c> any characters but '/', <c>**</c> any characters including '/', <c>?</c> one character but '/',
/// <c>[abc]</c> a character class. A pattern without '/' matches the last component at any depth
/// (<c>*.log</c>); a pattern with '/' is anchored at the source root (<c>cache/**</c>, a leading '/' is ignored).
/// A trailing '/' matches directories only. Matching is ordinal and case-sensitive.
/// </summary>
public sealed class GlobPattern
{
    private readonly Regex _regex;

    public GlobPattern(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, "an empty glob pattern", "write a pattern such as '*.log' or 'cache/**'");
        }

        Pattern = pattern;
        var p = pattern;
        DirectoryOnly = p.EndsWith('/');
        p = p.Trim('/');
        var anchored = pattern.TrimEnd('/').Contains('/');
        var sb = new StringBuilder(anchored ? "^" : "^(?:.*/)?");
        for (var i = 0; i < p.Length; i++)
        {
            var c = p[i];
            switch (c)
            {
                case '*' when i + 1 < p.Length && p[i + 1] == '*':
                    i++;
                    if (i + 1 < p.Length && p[i + 1] == '/')
                    {
                        i++;
                        sb.Append("(?:.*/)?");
                    }
                    else
                    {
                        sb.Append(".*");
                    }

                    break;
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    var end = p.IndexOf(']', i + 1);
                    if (end < 0)
                    {
                        throw new LifeboatException(ErrorCode.InvalidInput, $"glob pattern '{pattern}' has an unclosed '['", "close the character class or escape it");
                    }

                    var cls = p[(i + 1)..end];
                    if (cls.Length == 0 || cls == "!")
                    {
                        throw new LifeboatException(ErrorCode.InvalidInput, $"glob pattern '{pattern}' has an empty character class", "put at least one character between '[' and ']'");
                    }

                    // Like '?', a class matches one character of a name, so a negated class must not match '/' either.
                    sb.Append('[').Append(cls.StartsWith('!') ? "^/" + Regex.Escape(cls[1..]) : Regex.Escape(cls)).Append(']');
                    i = end;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        sb.Append('$');
        _regex = new Regex(sb.ToString(), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    public string Pattern { get; }

    public bool DirectoryOnly { get; }

    /// <summary>Whether <paramref name="relativePath"/> ('/'-separated) matches.</summary>
    public bool IsMatch(string relativePath, bool isDirectory)
        => (!DirectoryOnly || isDirectory) && _regex.IsMatch(relativePath);

    /// <summary>Whether the path or one of its parent directories matches (for restore filters).</summary>
    public bool MatchesSelfOrParent(string relativePath, bool isDirectory)
    {
        if (IsMatch(relativePath, isDirectory))
        {
            return true;
        }

        for (var slash = relativePath.LastIndexOf('/'); slash > 0; slash = relativePath.LastIndexOf('/', slash - 1))
        {
            if (IsMatch(relativePath[..slash], isDirectory: true))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => Pattern;
}
