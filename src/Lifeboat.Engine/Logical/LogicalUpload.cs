using System.Buffers;
using System.Globalization;
using System.Text.RegularExpressions;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Postgres.Tools;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Trees;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Logical;

/// <summary>
/// An external <c>pg_dump</c> taken into the repository as a logical backup of a database source, checked by
/// <c>pg_restore -l</c> before the manifest is written (a body that is not a dump commits nothing):
/// <list type="bullet">
/// <item>custom format (<c>pg_dump -Fc</c>): written to a private temporary file (pg_restore needs a file to read its
/// table of contents; the file is removed afterwards), checked, then stored as <c>dump.custom</c>, which restore hands to
/// pg_restore as it is (details <c>format: custom</c>);</item>
/// <item>directory format as a tar (<c>pg_dump -Fd</c> then <c>tar -cf</c>, or a downloaded logical backup): its
/// members stored as they are read into <c>dump/…</c>, like a backup Lifeboat took; only <c>toc.dat</c> is kept on disk
/// for the check.</item>
/// </list>
/// </summary>
public sealed partial class LogicalUpload
{
    public const string CustomDumpFile = "dump.custom";

    public const string PlainScriptFile = "dump.sql";

    private readonly Repo _repo;
    private readonly string _sourceName;
    private readonly PgBinaries _pg;
    private readonly ILogger _logger;

    public LogicalUpload(Repo repository, string sourceName, PgBinaries pg, ILogger logger)
    {
        _repo = repository;
        _sourceName = sourceName;
        _pg = pg;
        _logger = logger;
    }

    /// <summary>The length of the stored custom-format file (the backup's only file).</summary>
    public static long CustomDumpSize(Manifest manifest) => manifest.Stats.Bytes;

    public async Task<BackupOutcome> CustomAsync(Stream body, BackupRequest request, CancellationToken cancellationToken)
    {
        var work = LogicalRestore.CreatePrivate(Path.GetTempPath());
        try
        {
            var file = Path.Combine(work, CustomDumpFile);
            await using (var spool = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await body.CopyToAsync(spool, 1 << 20, cancellationToken);
            }

            var magic = new byte[5];
            await using (var check = File.OpenRead(file))
            {
                if (await check.ReadAtLeastAsync(magic, 5, throwOnEndOfStream: false, cancellationToken) < 5 || !magic.AsSpan().SequenceEqual("PGDMP"u8))
                {
                    throw NotADump("custom", "it does not start as a pg_dump archive (PGDMP)");
                }
            }

            var (toc, header) = await ListAsync(file, "CUSTOM", "custom", cancellationToken);
            await using var session = await BackupSession.StartAsync(_repo, request.Writer, cancellationToken);
            var now = NowNs();
            long size;
            var list = session.Writer.BeginList();
            var buffer = ArrayPool<byte>.Shared.Rent(session.Writer.StreamBufferSize);
            try
            {
                await using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                size = await session.Writer.SubmitStreamAsync(list, input, buffer, cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            await session.AddAsync(Root(now), null, cancellationToken);
            await session.AddAsync(new TreeEntry { Type = EntryType.File, Path = CustomDumpFile, Mode = 0x180, Size = size, MTime = now, CTime = now, Chunking = "cdc" }, list.CompleteAsync(), cancellationToken);
            return await CommitAsync(session, toc, header, DumpFormats.Custom, size, request, cancellationToken);
        }
        finally
        {
            Remove(work);
        }
    }

    /// <summary>
    /// A plain SQL script (<c>pg_dump -Fp</c>), streamed straight into the repository as <c>dump.sql</c> and checked as
    /// it goes by (<see cref="ScriptCheck"/>): text without NUL bytes, and no <c>\connect</c> to another database.
    /// </summary>
    /// <param name="script">The script from its first byte (decompressed when it was uploaded compressed).</param>
    /// <param name="database">The database the source dumps: a script does not name its own.</param>
    /// <param name="head">The first bytes of the script, for the versions in pg_dump's header comments.</param>
    public async Task<BackupOutcome> PlainAsync(Stream script, string database, ReadOnlyMemory<byte> head, BackupRequest request, CancellationToken cancellationToken)
    {
        await using var session = await BackupSession.StartAsync(_repo, request.Writer, cancellationToken);
        var now = NowNs();
        long size;
        var list = session.Writer.BeginList();
        var buffer = ArrayPool<byte>.Shared.Rent(session.Writer.StreamBufferSize);
        try
        {
            await using var checking = new ScriptCheck(script);
            size = await session.Writer.SubmitStreamAsync(list, checking, buffer, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await session.AddAsync(Root(now), null, cancellationToken);
        await session.AddAsync(new TreeEntry { Type = EntryType.File, Path = PlainScriptFile, Mode = 0x180, Size = size, MTime = now, CTime = now, Chunking = "cdc" }, list.CompleteAsync(), cancellationToken);
        var text = System.Text.Encoding.UTF8.GetString(head.Span);
        string Comment(string name) => Regex.Match(text, $@"^--\s+{name}\s+(.*?)\s*$", RegexOptions.Multiline, TimeSpan.FromSeconds(1)) is { Success: true } m ? m.Groups[1].Value : "";
        var server = Comment("Dumped from database version");
        var header = new DumpHeader(database, server, DumpHeader.VersionNum(server), Comment("Dumped by pg_dump version"), "PLAIN");
        return await CommitAsync(session, null, header, DumpFormats.Plain, size, request, cancellationToken);
    }

    public async Task<BackupOutcome> DirectoryTarAsync(Stream body, BackupRequest request, CancellationToken cancellationToken)
    {
        var work = LogicalRestore.CreatePrivate(Path.GetTempPath());
        try
        {
            await using var session = await BackupSession.StartAsync(_repo, request.Writer, cancellationToken);
            var now = NowNs();
            string? dumpPrefix = null;
            var tocCopy = Path.Combine(work, "toc.dat.part");
            var imported = await TarImport.ReadAsync(body, session.Writer, name =>
            {
                var slash = name.LastIndexOf('/');
                var directory = slash < 0 ? "" : name[..slash];
                var leaf = name[(slash + 1)..];
                if (leaf == LogicalBackup.GlobalsFile && slash < 0)
                {
                    return LogicalBackup.GlobalsFile;
                }

                if (leaf.Length > 0 && !leaf.Contains('.', StringComparison.Ordinal))
                {
                    return LogicalBackup.DumpDirectory; // the dump's directory itself
                }

                dumpPrefix ??= directory;
                if (directory != dumpPrefix)
                {
                    throw NotADump("directory-tar", $"member '{name}' is not in the dump's directory '{dumpPrefix}' (a directory-format dump is one flat directory)");
                }

                return LogicalBackup.DumpDirectory + "/" + leaf;
            }, now, cancellationToken, path => path == LogicalBackup.DumpDirectory + "/toc.dat" ? tocCopy : null);

            var toc = imported.FirstOrDefault(e => e.Entry.Path == LogicalBackup.DumpDirectory + "/toc.dat");
            if (toc is null)
            {
                throw NotADump("directory-tar", "the archive has no toc.dat");
            }

            // pg_restore lists a directory-format dump from its toc.dat alone: the copy kept while it went by.
            var dumpDir = Path.Combine(work, LogicalBackup.DumpDirectory);
            Directory.CreateDirectory(dumpDir);
            File.Move(tocCopy, Path.Combine(dumpDir, "toc.dat"));
            var (listing, header) = await ListAsync(dumpDir, "DIRECTORY", "directory-tar", cancellationToken);
            var names = imported.Select(e => e.Entry.Path).ToHashSet(StringComparer.Ordinal);
            var missing = listing.Entries.Where(e => e.Desc == "TABLE DATA" && !names.Any(n => n.StartsWith($"{LogicalBackup.DumpDirectory}/{e.DumpId}.dat", StringComparison.Ordinal))).Select(e => e.QualifiedName).ToList();
            if (missing.Count > 0)
            {
                throw NotADump("directory-tar", $"the table of contents names data files the archive does not have: {string.Join(", ", missing.Take(10))}");
            }

            if (!names.Contains(LogicalBackup.DumpDirectory))
            {
                imported.Add(new TarImport.Imported(new TreeEntry { Type = EntryType.Directory, Path = LogicalBackup.DumpDirectory, Mode = 0x1C0, MTime = now, CTime = now }, null));
            }

            foreach (var e in imported.OrderBy(e => e.Entry.Path, TreeOrder.Instance))
            {
                await session.AddAsync(e.Entry, e.Chunks, cancellationToken);
            }

            return await CommitAsync(session, listing, header, null, imported.Sum(e => e.Entry.Type == EntryType.File && e.Entry.HardlinkOf is null ? e.Entry.Size : 0), request, cancellationToken);
        }
        finally
        {
            Remove(work);
        }
    }

    private async Task<BackupOutcome> CommitAsync(BackupSession session, DumpToc? toc, DumpHeader header, string? format, long bytesRead, BackupRequest request, CancellationToken cancellationToken)
    {
        var details = new DumpDetails(
            header.Database,
            header.ServerVersion,
            header.ServerVersionNum,
            header.PgDumpVersion,
            Encoding: "",
            Collate: "",
            Ctype: "",
            Owner: "",
            DatabaseSize: 0,
            SchemaOnly: false,
            ExcludeTables: [],
            ExcludeTableData: [],
            Jobs: 1,
            Globals: "not included (uploaded dump)",
            toc?.Summary(),
            format).ToDetails();
        var manifest = await session.CommitAsync(new ManifestDraft(_sourceName, SourceKinds.Database, null, bytesRead, [header.Database], details, request.TagsWith(new Dictionary<string, string> { ["uploaded"] = "true" })), cancellationToken);
        return new BackupOutcome(manifest, []);
    }

    private async Task<(DumpToc Toc, DumpHeader Header)> ListAsync(string path, string expectedFormat, string format, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync(_pg.Client("pg_restore"), ["-l", "-v", path], null, new Dictionary<string, string>(), TimeSpan.FromMinutes(10), cancellationToken);
        if (!result.Success)
        {
            throw NotADump(format, "pg_restore cannot read it: " + PgTools.Tail(result.Error, 3));
        }

        var header = DumpHeader.Parse(result.Output);
        if (!string.Equals(header.Format, expectedFormat, StringComparison.OrdinalIgnoreCase))
        {
            throw NotADump(format, $"pg_restore reads it as a {header.Format} archive");
        }

        return (DumpToc.Parse(result.Output), header);
    }

    private static LifeboatException NotADump(string format, string why)
        => new(ErrorCode.InvalidInput, $"«body» is not a pg_dump archive of «format» {format}: {why}; nothing was stored", format == "custom" ? "send the file `pg_dump -Fc` wrote" : "send a tar of the directory `pg_dump -Fd` wrote (toc.dat and its .dat files)");

    private TreeEntry Root(long now) => new() { Type = EntryType.Directory, Path = "", Mode = 0x1C0, MTime = now, CTime = now };

    private long NowNs() => _repo.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;

    private void Remove(string work)
    {
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("could not remove the temporary directory {Directory}: {Error}", work, ex.Message);
        }
    }

    /// <summary>The header of <c>pg_restore -l</c>: the database, the versions and the archive's format.</summary>
    private sealed partial record DumpHeader(string Database, string ServerVersion, int ServerVersionNum, string PgDumpVersion, string Format)
    {
        public static DumpHeader Parse(string listing)
        {
            string Field(string name) => Regex.Match(listing, $@"^;\s+{name}:\s*(.*?)\s*$", RegexOptions.Multiline | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1)) is { Success: true } m ? m.Groups[1].Value : "";
            var server = Field("Dumped from database version");
            return new DumpHeader(Field("dbname"), server, VersionNum(server), Field("Dumped by pg_dump version"), Field("Format"));
        }

        /// <summary>"15.18 (Debian …)" → 150018; 0 when it is not a version.</summary>
        public static int VersionNum(string server)
        {
            var version = Version().Match(server);
            return version.Success ? int.Parse(version.Groups[1].Value, CultureInfo.InvariantCulture) * 10000 + (version.Groups[2].Success ? int.Parse(version.Groups[2].Value, CultureInfo.InvariantCulture) : 0) : 0;
        }

        [GeneratedRegex(@"^(\d+)(?:\.(\d+))?")]
        private static partial Regex Version();
    }

    /// <summary>
    /// Passes a script through as it is read, refusing what psql would run wrongly or not at all: a NUL byte (not a
    /// text), and a line <c>\connect …</c> or <c>\c …</c> (pg_dump --create, pg_dumpall): a restore loads the script into
    /// the one database it creates, and a script that connects elsewhere would write into another database.
    /// </summary>
    private sealed class ScriptCheck(Stream inner) : Stream
    {
        private long _offset;
        private long _line = 1;
        private bool _lineStart = true;
        private readonly List<byte> _lineHead = new(16);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _offset; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Check(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Check(buffer.Span[..read]);
        }

        private int Check(Span<byte> data)
        {
            var nul = data.IndexOf((byte)0);
            if (nul >= 0)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"«body» has a NUL byte at offset {_offset + nul}: it is not a plain SQL script (a text); nothing was stored", "send the script `pg_dump -Fp` wrote, or a pg_dump -Fc archive");
            }

            for (var i = 0; i < data.Length; i++)
            {
                if (!_lineStart)
                {
                    // Nothing to look at until the next line (IndexOf is vectorised: this is not a byte loop).
                    var next = data[i..].IndexOf((byte)'\n');
                    if (next < 0)
                    {
                        break;
                    }

                    i += next;
                }

                var b = data[i];
                if (b == (byte)'\n')
                {
                    _line++;
                    _lineStart = true;
                    _lineHead.Clear();
                    continue;
                }

                if (_lineStart)
                {
                    // The line's first word, up to "\connect" and a blank.
                    var end = b is (byte)' ' or (byte)'\t' or (byte)'\r';
                    if (!end)
                    {
                        _lineHead.Add(b);
                    }

                    if (end || _lineHead.Count > 8 || _lineHead[0] != (byte)'\\')
                    {
                        _lineStart = false;
                        if (IsConnect(_lineHead))
                        {
                            throw new LifeboatException(ErrorCode.InvalidInput, $"«body» connects to another database (line {_line}: \\connect): a restore loads the script into the one new database it creates; nothing was stored", "dump the one database without --create (`pg_dump -Fp DB`), not with pg_dumpall");
                        }
                    }
                }
            }

            _offset += data.Length;
            return data.Length;
        }

        /// <summary>psql's <c>\c</c> and <c>\connect</c> (the line's first word).</summary>
        private static bool IsConnect(List<byte> word)
            => word.SequenceEqual("\\c"u8.ToArray()) || word.SequenceEqual("\\connect"u8.ToArray());

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
