using Lifeboat.Core;

namespace Lifeboat.Repository.Format;

/// <summary>Object names (repository format, section 2).</summary>
public static class ObjectNames
{
    public const string Config = "config";
    public const string KeysPrefix = "keys/";
    public const string DataPrefix = "data/";
    public const string IndexPrefix = "index/";
    public const string BackupsPrefix = "backups/";
    public const string LocksPrefix = "locks/";
    public const string WalPrefix = "wal/";
    public const string PinsPrefix = "pins/";
    public const string StacksPrefix = "stacks/";

    public static string Stack(string stackBackupId) => StacksPrefix + stackBackupId;

    public static string Pin(string backupId) => PinsPrefix + backupId;

    public static string Pack(ChunkId id)
    {
        var hex = id.ToString();
        return $"{DataPrefix}{hex[..2]}/{hex}";
    }

    public static string Index(ChunkId id) => IndexPrefix + id;

    public static string Key(string slotId) => KeysPrefix + slotId;

    public static string Backup(string backupId) => BackupsPrefix + backupId;

    public static string Lock(string lockId) => LocksPrefix + lockId;

    /// <summary>The id of a pack named data/hh/&lt;id&gt;, or null for any other name.</summary>
    public static ChunkId? PackIdOf(string name)
    {
        if (!name.StartsWith(DataPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var last = name.LastIndexOf('/');
        var hex = name.AsSpan(last + 1);
        if (last != DataPrefix.Length + 2 || !ChunkId.TryParse(hex, out var id) || !name.AsSpan(DataPrefix.Length, 2).SequenceEqual(hex[..2]))
        {
            return null;
        }

        return id;
    }

    public static ChunkId? IndexIdOf(string name)
        => name.StartsWith(IndexPrefix, StringComparison.Ordinal) && ChunkId.TryParse(name.AsSpan(IndexPrefix.Length), out var id) ? id : null;
}
