namespace Lifeboat.Core;

/// <summary>"Did you mean …?": the known word closest to a mistyped one (Damerau–Levenshtein distance, optimal string alignment).</summary>
public static class Nearest
{
    /// <summary>
    /// The candidate closest to <paramref name="word"/>, or null when none is close: at most one edit for words of up to
    /// four letters, two up to eight, three beyond (a transposition counts as one). Ties go to the first candidate.
    /// Comparison is case-insensitive; a candidate that starts with the word (an abbreviation) also counts.
    /// </summary>
    public static string? Match(string word, IEnumerable<string> candidates)
    {
        if (word.Length == 0)
        {
            return null;
        }

        var limit = word.Length <= 4 ? 1 : word.Length <= 8 ? 2 : 3;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Distance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }

        if (best is not null && bestDistance <= limit)
        {
            return best;
        }

        return word.Length >= 3 ? candidates.FirstOrDefault(c => c.StartsWith(word, StringComparison.OrdinalIgnoreCase)) : null;
    }

    /// <summary>Edits (insert, delete, substitute, swap two neighbours) that turn <paramref name="a"/> into <paramref name="b"/>.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
