using System.Text.Json.Nodes;
using Lifeboat.Core;

namespace Lifeboat.Repository.Trees;

public enum EntryType
{
    File,
    Directory,
    Symlink,
}

/// <summary>One line of a tree (repository format, section 9).</summary>
public sealed class TreeEntry
{
    public required EntryType Type { get; set; }

    /// <summary>Relative, '/'-separated, no leading '/'; "" is the root directory.</summary>
    public required string Path { get; set; }

    /// <summary>Permission bits (st_mode &amp; 07777).</summary>
    public int Mode { get; set; }

    public long Uid { get; set; }

    public long Gid { get; set; }

    public string? User { get; set; }

    public string? Group { get; set; }

    public long Size { get; set; }

    /// <summary>Nanoseconds since the Unix epoch.</summary>
    public long MTime { get; set; }

    public long CTime { get; set; }

    public long Inode { get; set; }

    public long Links { get; set; }

    public long Dev { get; set; }

    public string? Target { get; set; }

    public string? HardlinkOf { get; set; }

    /// <summary>"cdc" or "block".</summary>
    public string? Chunking { get; set; }

    public List<ChunkId>? Chunks { get; set; }

    public JsonObject? Ext { get; set; }

    public override string ToString() => $"{Type} {Path}";
}
