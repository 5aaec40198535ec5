using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Core;

namespace Lifeboat.Repository.Trees;

/// <summary>JSON Lines encoding of tree entries, written and read by hand for speed (a tree can name millions of chunks).</summary>
public static class TreeSerializer
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Appends one entry and a newline to <paramref name="output"/>.</summary>
    public static void Write(TreeEntry entry, IBufferWriter<byte> output)
    {
        using (var w = new Utf8JsonWriter(output, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, entry.Type switch { EntryType.File => "file", EntryType.Directory => "dir", _ => "symlink" });
            WritePath(w, "path"u8, "pathBytes"u8, entry.Path);
            w.WriteNumber("mode"u8, entry.Mode);
            w.WriteNumber("uid"u8, entry.Uid);
            w.WriteNumber("gid"u8, entry.Gid);
            if (entry.User is not null) w.WriteString("user"u8, entry.User);
            if (entry.Group is not null) w.WriteString("group"u8, entry.Group);
            if (entry.Type == EntryType.File) w.WriteNumber("size"u8, entry.Size);
            w.WriteNumber("mtime"u8, entry.MTime);
            if (entry.CTime != 0) w.WriteNumber("ctime"u8, entry.CTime);
            if (entry.Inode != 0) w.WriteNumber("inode"u8, entry.Inode);
            if (entry.Dev != 0) w.WriteNumber("dev"u8, entry.Dev);
            if (entry.Links > 1) w.WriteNumber("links"u8, entry.Links);
            if (entry.Target is not null) WritePath(w, "target"u8, "targetBytes"u8, entry.Target);
            if (entry.HardlinkOf is not null) WritePath(w, "hardlinkOf"u8, "hardlinkOfBytes"u8, entry.HardlinkOf);
            if (entry.Special is not null)
            {
                w.WriteString("special"u8, entry.Special);
                if (entry.Special != TreeEntry.SpecialFifo)
                {
                    w.WriteNumber("rdevMajor"u8, entry.RdevMajor);
                    w.WriteNumber("rdevMinor"u8, entry.RdevMinor);
                }
            }

            if (entry.Chunking is not null) w.WriteString("chunking"u8, entry.Chunking);
            if (entry.Chunks is { Count: > 0 } chunks)
            {
                w.WriteStartArray("chunks"u8);
                Span<byte> raw = stackalloc byte[ChunkId.Size];
                Span<byte> hex = stackalloc byte[ChunkId.Size * 2];
                foreach (var id in chunks)
                {
                    id.WriteTo(raw);
                    Convert.TryToHexStringLower(raw, hex, out _);
                    w.WriteStringValue(hex);
                }

                w.WriteEndArray();
            }

            if (entry.Ext is not null)
            {
                w.WritePropertyName("ext"u8);
                entry.Ext.WriteTo(w);
            }

            w.WriteEndObject();
        }

        output.Write("\n"u8);
    }

    /// <summary>
    /// A path field (repository format, section 9): the string itself when its bytes are UTF-8; else its readable form
    /// (<see cref="RawPath.Display"/>) and, in <paramref name="bytesName"/>, its exact bytes in base64.
    /// </summary>
    private static void WritePath(Utf8JsonWriter w, ReadOnlySpan<byte> name, ReadOnlySpan<byte> bytesName, string path)
    {
        if (!RawPath.HasRawBytes(path))
        {
            w.WriteString(name, path);
            return;
        }

        w.WriteString(name, RawPath.Display(path));
        w.WriteBase64String(bytesName, RawPath.ToBytes(path));
    }

    /// <summary>Parses one line; throws <see cref="FormatException"/> when it is not a valid entry.</summary>
    public static TreeEntry Read(ReadOnlySpan<byte> line)
    {
        try
        {
            return ReadCore(line);
        }
        catch (JsonException ex)
        {
            throw new FormatException("a tree line is not valid JSON: " + ex.Message, ex);
        }
    }

    private static TreeEntry ReadCore(ReadOnlySpan<byte> line)
    {
        Span<char> hex = stackalloc char[ChunkId.Size * 2];
        var r = new Utf8JsonReader(line);
        Expect(r.Read() && r.TokenType == JsonTokenType.StartObject);
        EntryType? type = null;
        string? path = null;
        string? pathBytes = null, targetBytes = null, hardlinkOfBytes = null;
        var e = new TreeEntry { Type = EntryType.File, Path = "" };
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r.ValueSpan;
            r.Read();
            if (name.SequenceEqual("type"u8))
            {
                type = r.ValueTextEquals("file"u8) ? EntryType.File : r.ValueTextEquals("dir"u8) ? EntryType.Directory : r.ValueTextEquals("symlink"u8) ? EntryType.Symlink : throw new FormatException("unknown entry type " + r.GetString());
            }
            else if (name.SequenceEqual("path"u8)) path = r.GetString();
            else if (name.SequenceEqual("mode"u8)) e.Mode = r.GetInt32();
            else if (name.SequenceEqual("uid"u8)) e.Uid = r.GetInt64();
            else if (name.SequenceEqual("gid"u8)) e.Gid = r.GetInt64();
            else if (name.SequenceEqual("user"u8)) e.User = r.GetString();
            else if (name.SequenceEqual("group"u8)) e.Group = r.GetString();
            else if (name.SequenceEqual("size"u8)) e.Size = r.GetInt64();
            else if (name.SequenceEqual("mtime"u8)) e.MTime = r.GetInt64();
            else if (name.SequenceEqual("ctime"u8)) e.CTime = r.GetInt64();
            else if (name.SequenceEqual("inode"u8)) e.Inode = r.GetInt64();
            else if (name.SequenceEqual("dev"u8)) e.Dev = r.GetInt64();
            else if (name.SequenceEqual("links"u8)) e.Links = r.GetInt64();
            else if (name.SequenceEqual("target"u8)) e.Target = r.GetString();
            else if (name.SequenceEqual("hardlinkOf"u8)) e.HardlinkOf = r.GetString();
            else if (name.SequenceEqual("chunking"u8)) e.Chunking = r.GetString();
            else if (name.SequenceEqual("pathBytes"u8)) pathBytes = RawPath.FromBytes(r.GetBytesFromBase64());
            else if (name.SequenceEqual("targetBytes"u8)) targetBytes = RawPath.FromBytes(r.GetBytesFromBase64());
            else if (name.SequenceEqual("hardlinkOfBytes"u8)) hardlinkOfBytes = RawPath.FromBytes(r.GetBytesFromBase64());
            else if (name.SequenceEqual("special"u8)) e.Special = r.GetString();
            else if (name.SequenceEqual("rdevMajor"u8)) e.RdevMajor = r.GetInt64();
            else if (name.SequenceEqual("rdevMinor"u8)) e.RdevMinor = r.GetInt64();
            else if (name.SequenceEqual("chunks"u8))
            {
                Expect(r.TokenType == JsonTokenType.StartArray);
                var chunks = new List<ChunkId>();
                while (r.Read() && r.TokenType == JsonTokenType.String)
                {
                    if (r.ValueSpan.Length != hex.Length || Encoding.ASCII.GetChars(r.ValueSpan, hex) != hex.Length || !ChunkId.TryParse(hex, out var id))
                    {
                        throw new FormatException("a chunk id in a tree is not 64 hex digits");
                    }

                    chunks.Add(id);
                }

                Expect(r.TokenType == JsonTokenType.EndArray);
                e.Chunks = chunks;
            }
            else if (name.SequenceEqual("ext"u8))
            {
                e.Ext = JsonNode.Parse(ref r) as JsonObject;
            }
            else
            {
                r.Skip(); // fields a reader does not know are ignored (repository format, section 9)
            }
        }

        Expect(r.TokenType == JsonTokenType.EndObject);
        path = pathBytes ?? path;
        e.Target = targetBytes ?? e.Target;
        e.HardlinkOf = hardlinkOfBytes ?? e.HardlinkOf;
        if (type is null || path is null)
        {
            throw new FormatException("a tree entry lacks its type or path");
        }

        if (path.StartsWith('/') || (path.Length > 0 && path.Split('/').Any(p => p is "" or "." or "..")))
        {
            throw new FormatException($"a tree entry has an unsafe path '{RawPath.Display(path)}'");
        }

        e.Type = type.Value;
        e.Path = path;
        return e;
    }

    private static void Expect(bool condition)
    {
        if (!condition)
        {
            throw new FormatException("malformed tree line");
        }
    }
}
