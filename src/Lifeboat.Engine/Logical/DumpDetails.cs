using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Lifeboat.Engine.Logical;

/// <summary>What a dump holds (repository format, section 10.2: <c>details.contents</c>).</summary>
/// <param name="Objects">How many entries of each kind the dump's table of contents has (TABLE, INDEX, …).</param>
public sealed record DumpContents(IReadOnlyList<string> Tables, IReadOnlyList<string> Views, IReadOnlyList<string> Schemas, IReadOnlyList<string> Owners, IReadOnlyDictionary<string, int> Objects);

/// <summary>
/// The details of a logical backup's manifest (repository format, section 10.2): the database and how it was dumped,
/// and what the dump contains.
/// </summary>
/// <param name="Globals">How roles were dumped: with passwords, without passwords, or not at all.</param>
/// <param name="Format">How the dump is stored: null (or "directory") a directory-format dump under <c>dump/</c>; "custom" an uploaded custom-format file <c>dump.custom</c>; "plain" an uploaded SQL script <c>dump.sql</c>.</param>
public sealed record DumpDetails(
    string Database,
    string ServerVersion,
    int ServerVersionNum,
    string PgDump,
    string Encoding,
    string Collate,
    string Ctype,
    string Owner,
    long DatabaseSize,
    bool SchemaOnly,
    IReadOnlyList<string> ExcludeTables,
    IReadOnlyList<string> ExcludeTableData,
    int Jobs,
    string Globals,
    DumpContents? Contents,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Format = null)
{
    public JsonObject ToDetails() => JsonSerializer.SerializeToNode(this, DumpDetailsJson.Default.DumpDetails)!.AsObject();

    /// <summary>The dump's details, or null when the manifest has none (or they are not a dump's).</summary>
    public static DumpDetails? FromDetails(JsonObject? details)
    {
        if (details?["database"] is null)
        {
            return null;
        }

        return details.Deserialize(DumpDetailsJson.Default.DumpDetails);
    }

    /// <summary>The database as it was, to create the restored one like it (an uploaded dump leaves encoding and locale empty).</summary>
    public DatabaseInfo Like() => new(Database, ServerVersionNum, ServerVersion, Encoding, Collate, Ctype, Owner, DatabaseSize);
}

/// <summary>How a logical backup's dump is stored (<see cref="DumpDetails.Format"/>).</summary>
public static class DumpFormats
{
    public const string Directory = "directory";
    public const string Custom = "custom";

    /// <summary>An uploaded plain SQL script (<c>pg_dump -Fp</c>), stored as <c>dump.sql</c>; restore runs it with psql.</summary>
    public const string Plain = "plain";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DumpDetails))]
internal sealed partial class DumpDetailsJson : JsonSerializerContext;
