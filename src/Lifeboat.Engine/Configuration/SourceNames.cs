using System.Text.RegularExpressions;
using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

public static partial class SourceNames
{
    /// <summary>Source and stack names: lower-case letters, digits, '.', '_', '-'; they appear in object names.</summary>
    public static void Validate(string name, string what)
    {
        if (!Pattern().IsMatch(name))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{name}' is not a valid {what}", "use 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
