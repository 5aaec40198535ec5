using System.Globalization;
using System.Text.RegularExpressions;
using Lifeboat.Core;

namespace Lifeboat.Engine.Logical;

/// <summary>One entry of a pg_dump archive's table of contents, as <c>pg_restore -l -v</c> lists it.</summary>
public sealed record TocEntry(int DumpId, string Desc, string? Namespace, string Tag, string Owner, IReadOnlyList<int> Dependencies, string Line)
{
    /// <summary>"schema.name" for relations, the tag otherwise.</summary>
    public string QualifiedName => Namespace is null ? Tag : $"{Namespace}.{Tag}";
}

/// <summary>
/// The table of contents of a pg_dump archive: what it holds (for <c>info</c>), and the entries to restore for a list of
/// tables (the tables, their data, indexes, constraints, defaults, triggers, sequences, and the schemas, types and
/// functions they need — but no foreign key to a table that is not restored).
/// </summary>
public sealed partial class DumpToc
{
    // Descriptions of more than one word, longest first (pg_dump's te->desc values).
    private static readonly string[] MultiWord =
    [
        "PUBLICATION TABLES IN SCHEMA", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "MATERIALIZED VIEW DATA",
        "TEXT SEARCH TEMPLATE", "FOREIGN DATA WRAPPER", "TEXT SEARCH PARSER", "SEQUENCE OWNED BY", "PROCEDURAL LANGUAGE",
        "DATABASE PROPERTIES", "PUBLICATION TABLE", "MATERIALIZED VIEW", "OPERATOR FAMILY", "CHECK CONSTRAINT", "OPERATOR CLASS",
        "SECURITY LABEL", "BLOB METADATA", "FK CONSTRAINT", "FOREIGN TABLE", "EVENT TRIGGER", "ACCESS METHOD", "INDEX ATTACH",
        "TABLE ATTACH", "ROW SECURITY", "SEQUENCE SET", "LARGE OBJECT", "USER MAPPING", "DEFAULT ACL", "SHELL TYPE",
        "DUMMY TYPE", "TABLE DATA",
    ];

    private static readonly HashSet<string> RelationKinds = ["TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE"];

    // What a restored table may need that is not a table itself.
    private static readonly HashSet<string> Prerequisites = ["SCHEMA", "SEQUENCE", "TYPE", "SHELL TYPE", "DOMAIN", "COLLATION", "EXTENSION", "FUNCTION", "PROCEDURE", "AGGREGATE", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY"];

    // What belongs to a restored table.
    private static readonly HashSet<string> Dependents =
    [
        "TABLE DATA", "INDEX", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "DEFAULT", "SEQUENCE OWNED BY", "SEQUENCE SET",
        "TRIGGER", "COMMENT", "ACL", "POLICY", "ROW SECURITY", "STATISTICS", "RULE", "INDEX ATTACH", "TABLE ATTACH",
        "SECURITY LABEL", "MATERIALIZED VIEW DATA",
    ];

    private static readonly HashSet<string> Constraints = ["TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "CONSTRAINT", "INDEX", "FK CONSTRAINT"];

    private DumpToc(List<TocEntry> entries)
    {
        Entries = entries;
        ById = entries.ToDictionary(e => e.DumpId);
    }

    public IReadOnlyList<TocEntry> Entries { get; }

    public IReadOnlyDictionary<int, TocEntry> ById { get; }

    /// <summary>Tables (and views, materialized views, foreign tables) as "schema.name".</summary>
    public IEnumerable<string> Relations => Entries.Where(e => RelationKinds.Contains(e.Desc)).Select(e => e.QualifiedName);

    /// <summary>Parses the output of <c>pg_restore -l -v</c>.</summary>
    public static DumpToc Parse(string listing)
    {
        var entries = new List<TocEntry>();
        foreach (var raw in listing.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var deps = DependsOn().Match(line);
            if (deps.Success && entries.Count > 0)
            {
                var ids = deps.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
                entries[^1] = entries[^1] with { Dependencies = ids };
                continue;
            }

            var m = EntryLine().Match(line);
            if (!m.Success)
            {
                continue;
            }

            var rest = m.Groups["rest"].Value;
            var desc = MultiWord.FirstOrDefault(w => rest.StartsWith(w + " ", StringComparison.Ordinal)) ?? rest[..Math.Max(0, rest.IndexOf(' '))];
            if (desc.Length == 0)
            {
                continue;
            }

            rest = rest[(desc.Length + 1)..];
            var space = rest.IndexOf(' ');
            var ns = space < 0 ? rest : rest[..space];
            rest = space < 0 ? "" : rest[(space + 1)..];
            var lastSpace = rest.LastIndexOf(' ');
            var tag = lastSpace < 0 ? rest : rest[..lastSpace];
            var owner = lastSpace < 0 ? "" : rest[(lastSpace + 1)..];
            entries.Add(new TocEntry(int.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture), desc, ns == "-" ? null : ns, tag, owner, [], line));
        }

        return new DumpToc(entries);
    }

    /// <summary>
    /// Finds the relation a user named ("name" or "schema.name"); throws a usage error naming the candidates when it is
    /// missing or ambiguous.
    /// </summary>
    public TocEntry FindRelation(string name, string what)
    {
        var matches = Entries.Where(e => RelationKinds.Contains(e.Desc)
                && (name.Contains('.', StringComparison.Ordinal) ? e.QualifiedName == name : e.Tag == name))
            .ToList();
        if (matches.Count == 1)
        {
            return matches[0];
        }

        if (matches.Count > 1)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«table» {name} is ambiguous in {what}: {string.Join(", ", matches.Select(e => e.QualifiedName))}", "qualify it with its schema, e.g. «table» " + matches[0].QualifiedName);
        }

        var relations = Relations.ToList();
        var sample = relations.Count == 0 ? "it has no tables" : "it has " + string.Join(", ", relations.Take(20)) + (relations.Count > 20 ? $" and {relations.Count - 20} more" : "");
        throw new LifeboatException(ErrorCode.InvalidInput, $"table '{name}' is not in {what} ({sample})", "name a table the backup holds (`lifeboat info BACKUP_ID` lists them), as name or schema.name");
    }

    /// <summary>The entries to restore for these relations, in archive order (a <c>pg_restore -L</c> list).</summary>
    public List<TocEntry> Select(IEnumerable<TocEntry> relations)
    {
        var selected = relations.Select(r => r.DumpId).ToHashSet();
        var chosenRelations = new HashSet<int>(selected);
        bool changed;
        do
        {
            changed = false;
            foreach (var entry in Entries)
            {
                if (selected.Contains(entry.DumpId))
                {
                    // Pull in what a selected entry needs that is not a relation of its own.
                    foreach (var dep in entry.Dependencies)
                    {
                        if (ById.TryGetValue(dep, out var needed) && Prerequisites.Contains(needed.Desc) && selected.Add(dep))
                        {
                            changed = true;
                        }
                    }

                    continue;
                }

                if (!Dependents.Contains(entry.Desc) || !entry.Dependencies.Any(selected.Contains))
                {
                    continue;
                }

                if (IsSatisfied(entry, chosenRelations, selected) && selected.Add(entry.DumpId))
                {
                    changed = true;
                }
            }
        }
        while (changed);

        return Entries.Where(e => selected.Contains(e.DumpId)).ToList();
    }

    // A dependent belongs to the restore when every relation, constraint or index it refers to is restored too.
    private bool IsSatisfied(TocEntry entry, HashSet<int> relations, HashSet<int> selected)
    {
        foreach (var dep in entry.Dependencies)
        {
            if (!ById.TryGetValue(dep, out var target))
            {
                continue;
            }

            if (RelationKinds.Contains(target.Desc) && !relations.Contains(dep))
            {
                return false;
            }

            if (Constraints.Contains(target.Desc) && !selected.Contains(dep))
            {
                return false;
            }
        }

        // A sequence's OWNED BY names its table.
        if (entry.Desc == "SEQUENCE OWNED BY" && entry.Dependencies.Select(d => ById.GetValueOrDefault(d)).OfType<TocEntry>()
                .SelectMany(seq => seq.Dependencies).Any(d => ById.TryGetValue(d, out var t) && RelationKinds.Contains(t.Desc) && !relations.Contains(d)))
        {
            return false;
        }

        return true;
    }

    /// <summary>A summary for the manifest: relations, schemas, owners and how many objects of each kind.</summary>
    public DumpContents Summary()
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in Entries)
        {
            counts[e.Desc] = counts.GetValueOrDefault(e.Desc) + 1;
        }

        return new DumpContents(
            Entries.Where(e => e.Desc == "TABLE").Select(e => e.QualifiedName).ToList(),
            Entries.Where(e => e.Desc is "VIEW" or "MATERIALIZED VIEW" or "FOREIGN TABLE").Select(e => e.QualifiedName).ToList(),
            Entries.Where(e => e.Desc == "SCHEMA").Select(e => e.Tag).ToList(),
            Entries.Select(e => e.Owner).Where(o => o.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            counts);
    }

    [GeneratedRegex(@"^(?<id>\d+); \d+ \d+ (?<rest>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex EntryLine();

    [GeneratedRegex(@"^;\s+depends on:\s*([\d ]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex DependsOn();
}
