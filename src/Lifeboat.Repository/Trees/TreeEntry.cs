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

    /// <summary>
    /// Relative, '/'-separated, no leading '/'; "" is the root directory. A <see cref="RawPath"/>: the exact bytes of the
    /// name, which need not be UTF-8 (shown to people as <see cref="RawPath.Display"/>).
    /// </summary>
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

    /// <summary>A symlink's target, verbatim (a <see cref="RawPath"/>).</summary>
    public string? Target { get; set; }

    /// <summary>The tree path of the first path of a hard-link set (a <see cref="RawPath"/>).</summary>
    public string? HardlinkOf { get; set; }

    /// <summary>
    /// A special file recorded as metadata only (a <see cref="EntryType.File"/> without content): <see cref="SpecialFifo"/>,
    /// <see cref="SpecialCharDevice"/> or <see cref="SpecialBlockDevice"/>; null for a regular file.
    /// </summary>
    public string? Special { get; set; }

    /// <summary>For a device file: the device it stands for (st_rdev), major number.</summary>
    public long RdevMajor { get; set; }

    /// <summary>For a device file: the device it stands for (st_rdev), minor number.</summary>
    public long RdevMinor { get; set; }

    /// <summary>"cdc" or "block".</summary>
    public string? Chunking { get; set; }

    public List<ChunkId>? Chunks { get; set; }

    public JsonObject? Ext { get; set; }

    public const string SpecialFifo = "fifo";

    public const string SpecialCharDevice = "chardev";

    public const string SpecialBlockDevice = "blockdev";

    public override string ToString() => $"{Special ?? Type.ToString()} {RawPath.Display(Path)}";
}
