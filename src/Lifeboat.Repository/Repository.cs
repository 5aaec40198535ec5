// Over 400 lines: the repository's facade (repository format, sections 3-9): opening and key slots, config,
// manifests, pins, index loading and the object names; each part is short and delegates the heavy work.
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Repository.Chunking;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lifeboat.Repository;

/// <summary>Parameters of a new repository.</summary>
public sealed record InitOptions
{
    /// <summary>The passphrase or key file for the first key slot; null only with <see cref="InsecureNoEncryption"/>.</summary>
    public KeyMaterial? Key { get; init; }

    public bool InsecureNoEncryption { get; init; }

    public int CompressionLevel { get; init; } = 3;

    public long PackSize { get; init; } = 32L * 1024 * 1024;

    public int FrameSize { get; init; } = 128 * 1024;

    public int BlockSize { get; init; } = 8192;

    public ChunkerSizes DataChunker { get; init; } = ChunkerSizes.Data;

    public ChunkerSizes TreeChunker { get; init; } = ChunkerSizes.Tree;
}

/// <summary>
/// An open repository (docs/repository-format.md): its target, configuration and keys, and the operations on its
/// small objects (key slots, index objects, manifests). Thread-safe.
/// </summary>
public sealed partial class Repository : IAsyncDisposable
{
    private readonly MasterKey? _master;
    private readonly ILogger _logger;
    private ChunkIndex? _index;

    private Repository(ITarget target, RepositoryConfig config, MasterKey? master, byte[] idKey, byte[] chunkerKey, string? openedSlotId, TimeProvider time, ILogger logger)
    {
        Target = target;
        Config = config;
        _master = master;
        IdKey = idKey;
        ChunkerKey = chunkerKey;
        OpenedSlotId = openedSlotId;
        Time = time;
        _logger = logger;
        Sealer = master is null ? Sealer.Unencrypted() : Sealer.Encrypted(master.EncKey);
        DataChunker = new FastCdc(chunkerKey, config.Chunker.Data.ToSizes());
        TreeChunker = new FastCdc(chunkerKey, config.Chunker.Tree.ToSizes());
    }

    public ITarget Target { get; }

    public RepositoryConfig Config { get; }

    public string DisplayName => Target.DisplayName;

    public Sealer Sealer { get; }

    public FastCdc DataChunker { get; }

    public FastCdc TreeChunker { get; }

    public int BlockSize => Config.Chunker.BlockSize;

    public TimeProvider Time { get; }

    public ILogger Logger => _logger;

    /// <summary>The key slot that opened the repository (null when unencrypted).</summary>
    public string? OpenedSlotId { get; }

    /// <summary>
    /// Objects under <c>keys/</c> that did not decode when the repository was opened: skipped (another slot opened it)
    /// and logged as a warning; <c>verify</c> reports them as damage.
    /// </summary>
    public IReadOnlyList<DamagedKeySlot> DamagedKeySlots { get; private init; } = [];

    internal byte[] IdKey { get; }

    private byte[] ChunkerKey { get; }

    /// <summary>
    /// The same repository stored on another target (a replica, repository format section 20): the same configuration and
    /// keys, another place. Takes ownership of <paramref name="target"/>. The caller vouches that the target holds this
    /// repository or is to receive it (<see cref="ReplicaIdentity"/> checks it).
    /// </summary>
    public Repository OnTarget(ITarget target) => new(target, Config, _master, IdKey, ChunkerKey, OpenedSlotId, Time, _logger);

    public ObjectCodec CreateCodec(int? compressionLevel = null) => new(Sealer, compressionLevel ?? Config.Compression.Level);

    public ChunkHasher CreateHasher() => new(IdKey);

    /// <summary>Creates a repository on <paramref name="target"/>: a key slot first, then <c>config</c> (its existence marks the repository).</summary>
    public static async Task<Repository> InitAsync(ITarget target, InitOptions options, TimeProvider time, ILogger? logger, CancellationToken cancellationToken)
    {
        logger ??= NullLogger.Instance;
        if (options.Key is null && !options.InsecureNoEncryption)
        {
            throw new LifeboatException(ErrorCode.Usage, "a new repository needs a passphrase or a key file", "give «passphraseFile» F, «keyFile» F, or set LIFEBOAT_PASSPHRASE; «insecureNoEncryption» only if the data may be read by anyone with access to the target");
        }

        if (options.CompressionLevel is < 1 or > 19)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"compression level {options.CompressionLevel} is out of range", "use a zstd level from 1 to 19 (default 3)");
        }

        if (options.PackSize is < 1L << 20 or > 1L << 30)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"pack size {ByteSize.Format(options.PackSize)} is out of range", "use a pack size from 1 MiB to 1 GiB (default 32 MiB)");
        }

        await CheckInitLocationAsync(target, cancellationToken);
        if (target.Innermost() is LocalTarget local)
        {
            CreateLocalRoot(local.Root);
        }

        var master = MasterKey.Generate();
        var now = time.GetUtcNow();
        var config = new RepositoryConfig
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Created = now,
            Encryption = options.InsecureNoEncryption ? RepositoryConfig.EncryptionNone : RepositoryConfig.EncryptionAesGcm,
            Compression = new CompressionSettings { Level = options.CompressionLevel },
            Chunker = new ChunkerSettings
            {
                Data = SizeSettings.From(options.DataChunker),
                Tree = SizeSettings.From(options.TreeChunker),
                BlockSize = options.BlockSize,
            },
            FrameSize = options.FrameSize,
            PackSize = options.PackSize,
            PlainKeys = options.InsecureNoEncryption ? new PlainKeys { IdKey = master.IdKey, ChunkerKey = master.ChunkerKey, MacKey = master.MacKey } : null,
        }.WithMac(master.MacKey);

        string? slotId = null;
        if (!options.InsecureNoEncryption)
        {
            var slot = KeySlot.Create(master, options.Key!, now, "added by repo init");
            await target.SaveAsync(ObjectNames.Key(slot.Id), ObjectSource.FromBytes(slot.ToJson()), SaveMode.Create, cancellationToken);
            slotId = slot.Id;
        }

        await target.SaveAsync(ObjectNames.Config, ObjectSource.FromBytes(config.ToJson()), SaveMode.Create, cancellationToken);
        return new Repository(target, config, options.InsecureNoEncryption ? null : master, master.IdKey, master.ChunkerKey, slotId, time, logger);
    }

    /// <summary>
    /// Opens the repository on <paramref name="target"/>; <paramref name="key"/> is asked for the passphrase or key file only
    /// when the repository is encrypted. Throws exit-code-2 errors for a missing repository and a wrong passphrase.
    /// </summary>
    public static async Task<Repository> OpenAsync(ITarget target, Func<KeyMaterial?> key, TimeProvider time, ILogger? logger, CancellationToken cancellationToken)
    {
        logger ??= NullLogger.Instance;
        byte[] configBytes;
        try
        {
            configBytes = await target.ReadAllAsync(ObjectNames.Config, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"there is no Lifeboat repository at {target.DisplayName}", "check Repository:Url in the configuration file, or create a repository with `lifeboat repo init --repo URL`", ex);
        }
        catch (TargetException ex) when (ex.Kind is TargetErrorKind.AccessDenied or TargetErrorKind.AuthenticationFailed)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"cannot read the repository at {target.DisplayName}: {ex.Message}", ex.Hint ?? "check the permissions or credentials of the user running lifeboat", ex);
        }

        var config = RepositoryConfig.Parse(configBytes, target.DisplayName);
        if (!config.IsEncrypted)
        {
            var plain = config.PlainKeys!;
            if (!config.MacIsValid(plain.MacKey))
            {
                throw new DamageException($"the config object of {target.DisplayName} was modified (its checksum does not match)", [ObjectNames.Config], []);
            }

            return new Repository(target, config, null, plain.IdKey, plain.ChunkerKey, null, time, logger);
        }

        var material = key();
        if (material is null)
        {
            throw new LifeboatException(ErrorCode.Config, $"the repository at {target.DisplayName} is encrypted and no passphrase or key file was given", "set Repository:PassphraseFile or Repository:KeyFile in the configuration file, pass «passphraseFile», or set LIFEBOAT_PASSPHRASE");
        }

        var (master, slotId, damagedSlots) = await UnwrapAsync(target, material, logger, cancellationToken);
        if (!config.MacIsValid(master.MacKey))
        {
            throw new DamageException($"the config object of {target.DisplayName} was modified (its MAC does not verify)", [ObjectNames.Config], [], "restore the config object from a replica of the repository");
        }

        return new Repository(target, config, master, master.IdKey, master.ChunkerKey, slotId, time, logger) { DamagedKeySlots = damagedSlots };
    }

    private static async Task<(MasterKey Master, string SlotId, List<DamagedKeySlot> Damaged)> UnwrapAsync(ITarget target, KeyMaterial key, ILogger logger, CancellationToken cancellationToken)
    {
        var (slots, damaged) = await LoadSlotsAsync(target, cancellationToken);
        foreach (var slot in slots)
        {
            MasterKey? master;
            try
            {
                master = slot.TryUnwrap(key);
            }
            catch (LifeboatException ex) when (ex.Code == ErrorCode.Damage)
            {
                // An unknown key derivation or a weakened slot: refused, and the other slots still tried.
                damaged.Add(new DamagedKeySlot(slot.Id, ObjectNames.Key(slot.Id), ex.Message));
                continue;
            }

            if (master is not null)
            {
                foreach (var d in damaged)
                {
                    LogDamagedKeySlot(logger, d.Object, d.Problem);
                }

                return (master, slot.Id, damaged);
            }
        }

        if (damaged.Count > 0)
        {
            throw DamagedSlotsException(target, damaged);
        }

        if (slots.Count == 0)
        {
            throw new DamageException($"the repository at {target.DisplayName} has no key slots (nothing under {ObjectNames.KeysPrefix}); no passphrase or key file can open it", [ObjectNames.KeysPrefix], [], "restore the key slots from a replica of the repository (`lifeboat replicate` copies them)");
        }

        var message = key.IsKeyFile
            ? $"wrong key file for repository {target.DisplayName} ({key.Description} opens none of its {slots.Count} key slots)"
            : $"wrong passphrase for repository {target.DisplayName}";
        throw new LifeboatException(ErrorCode.WrongPassphrase, message, "check the passphrase or key file; `lifeboat repo key list` shows the key slots of a repository you can open");
    }

    private static DamageException DamagedSlotsException(ITarget target, List<DamagedKeySlot> damaged)
    {
        var what = damaged.Count == 1
            ? $"key slot {damaged[0].SlotId} is damaged ({damaged[0].Problem})"
            : $"key slots {string.Join(", ", damaged.Select(d => d.SlotId))} are damaged ({string.Join("; ", damaged.Select(d => $"{d.SlotId}: {d.Problem}"))})";
        return new DamageException(
            $"{what}; no other slot of {target.DisplayName} opens with the passphrase or key file given",
            damaged.Select(d => d.Object).ToList(),
            [],
            "restore the damaged key slot objects from a replica of the repository (`lifeboat replicate` copies them), or open the repository with the passphrase or key file of another slot");
    }

    /// <summary>The key slots that decode, oldest first, and the objects under <c>keys/</c> that do not (skipped, never fatal).</summary>
    private static async Task<(List<KeySlot> Slots, List<DamagedKeySlot> Damaged)> LoadSlotsAsync(ITarget target, CancellationToken cancellationToken)
    {
        var slots = new List<KeySlot>();
        var damaged = new List<DamagedKeySlot>();
        foreach (var item in await target.ListAllAsync(ObjectNames.KeysPrefix, cancellationToken))
        {
            var slotId = item.Name[ObjectNames.KeysPrefix.Length..];
            byte[] bytes;
            try
            {
                bytes = await target.ReadAllAsync(item.Name, cancellationToken);
            }
            catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
            {
                continue; // removed since the listing
            }
            catch (TargetException ex) when (ex.Kind is not (TargetErrorKind.AccessDenied or TargetErrorKind.AuthenticationFailed))
            {
                damaged.Add(new DamagedKeySlot(slotId, item.Name, $"cannot be read: {ex.Message}"));
                continue;
            }

            var problem = KeySlot.TryParse(bytes, out var slot);
            if (slot is null)
            {
                damaged.Add(new DamagedKeySlot(slotId, item.Name, problem ?? "not a key slot"));
                continue;
            }

            slots.Add(slot);
        }

        slots.Sort((a, b) => a.Created.CompareTo(b.Created));
        damaged.Sort((a, b) => string.CompareOrdinal(a.Object, b.Object));
        return (slots, damaged);
    }

    /// <summary>The key slots that decode, oldest first (the damaged ones are in <see cref="DamagedKeySlots"/> after open, or <see cref="ListDamagedKeysAsync"/>).</summary>
    public async Task<List<KeySlot>> ListKeysAsync(CancellationToken cancellationToken) => (await LoadSlotsAsync(Target, cancellationToken)).Slots;

    /// <summary>Every key slot as it is now: the ones that decode and the damaged ones.</summary>
    public Task<(List<KeySlot> Slots, List<DamagedKeySlot> Damaged)> ListKeysWithDamageAsync(CancellationToken cancellationToken) => LoadSlotsAsync(Target, cancellationToken);

    /// <summary>The objects under <c>keys/</c> that do not decode as key slots, read now.</summary>
    public async Task<List<DamagedKeySlot>> ListDamagedKeysAsync(CancellationToken cancellationToken) => (await LoadSlotsAsync(Target, cancellationToken)).Damaged;

    /// <summary>Adds a key slot for another passphrase or key file. Data is not re-encrypted.</summary>
    public async Task<KeySlot> AddKeyAsync(KeyMaterial key, string? label, CancellationToken cancellationToken)
    {
        var master = _master ?? throw new LifeboatException(ErrorCode.Refused, $"the repository at {DisplayName} is not encrypted and has no keys", "create an encrypted repository and copy the backups over");
        var slot = KeySlot.Create(master, key, Time.GetUtcNow(), label);
        await Target.SaveAsync(ObjectNames.Key(slot.Id), ObjectSource.FromBytes(slot.ToJson()), SaveMode.Create, cancellationToken);
        return slot;
    }

    /// <summary>Removes a key slot; never the last one, nor the one this session was opened with.</summary>
    public async Task RemoveKeyAsync(string slotId, CancellationToken cancellationToken)
    {
        var (slots, damaged) = await LoadSlotsAsync(Target, cancellationToken);
        var matches = slots.Where(s => s.Id.StartsWith(slotId, StringComparison.Ordinal)).ToList();
        var damagedMatches = damaged.Where(d => d.SlotId.StartsWith(slotId, StringComparison.Ordinal)).ToList();
        if (matches.Count + damagedMatches.Count == 0)
        {
            throw new LifeboatException(ErrorCode.NotFound, $"no key slot '{slotId}' in {DisplayName}", "`lifeboat repo key list` shows the slots");
        }

        if (matches.Count + damagedMatches.Count > 1)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{slotId}' matches {matches.Count + damagedMatches.Count} key slots", "give more digits of the slot id");
        }

        if (damagedMatches.Count == 1)
        {
            // A damaged slot opens nothing; this session opened through an intact one, which stays.
            await Target.DeleteAsync(damagedMatches[0].Object, cancellationToken);
            return;
        }

        var slot = matches[0];
        if (slots.Count == 1)
        {
            throw new LifeboatException(ErrorCode.Refused, $"key slot {slot.Id} is the last one of {DisplayName}; removing it would make every backup unreadable", "add another key first with `lifeboat repo key add`");
        }

        if (slot.Id == OpenedSlotId)
        {
            throw new LifeboatException(ErrorCode.Refused, $"key slot {slot.Id} is the one this command opened the repository with", "run the command with another passphrase or key file to remove this slot");
        }

        await Target.DeleteAsync(ObjectNames.Key(slot.Id), cancellationToken);
    }

    /// <summary>Loads, opens and decodes a sealed object; damage raises a <see cref="DamageException"/> naming it.</summary>
    public async Task<byte[]> LoadSealedAsync(string name, SealKind kind, CancellationToken cancellationToken)
    {
        var bytes = await Target.ReadAllAsync(name, cancellationToken);
        using var codec = CreateCodec();
        return codec.TryDecode(bytes, kind, out var error)
               ?? throw new DamageException($"{name} in {DisplayName} is damaged: {error}", [name], []);
    }

    /// <summary>Seals and saves a small object; returns the stored size.</summary>
    public async Task<long> SaveSealedAsync(string name, ReadOnlyMemory<byte> body, SealKind kind, SaveMode mode, CancellationToken cancellationToken)
    {
        byte[] sealedBytes;
        using (var codec = CreateCodec())
        {
            sealedBytes = codec.Encode(body.Span, compress: true, kind);
        }

        await Target.SaveAsync(name, ObjectSource.FromBytes(sealedBytes), mode, cancellationToken);
        return sealedBytes.Length;
    }

    /// <summary>Writes an index object listing <paramref name="packs"/>; its name is the hash of its bytes.</summary>
    public async Task<(ChunkId Id, long Size)> SaveIndexAsync(IReadOnlyCollection<ChunkId> superseded, IReadOnlyCollection<PackDescription> packs, CancellationToken cancellationToken)
    {
        byte[] sealedBytes;
        using (var codec = CreateCodec())
        {
            sealedBytes = codec.Encode(PackCodec.WriteIndexBody(superseded, packs), compress: true, SealKind.Index);
        }

        var id = new ChunkId(SHA256.HashData(sealedBytes));
        await Target.SaveAsync(ObjectNames.Index(id), ObjectSource.FromBytes(sealedBytes), SaveMode.Replace, cancellationToken);
        return (id, sealedBytes.Length);
    }

    /// <summary>
    /// Every index object, read and checked (name = hash, seal, format). Damaged ones are returned separately.
    /// Superseded objects are dropped when the object superseding them exists.
    /// </summary>
    public async Task<IndexSnapshot> LoadIndexObjectsAsync(CancellationToken cancellationToken)
    {
        var listing = await Target.ListAllAsync(ObjectNames.IndexPrefix, cancellationToken);
        var loaded = new ConcurrentBag<(ChunkId Id, long Size, List<ChunkId> Superseded, List<PackDescription> Packs)>();
        var damaged = new ConcurrentBag<(string Name, string Error)>();
        await Parallel.ForEachAsync(listing, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (item, ct) =>
        {
            var id = ObjectNames.IndexIdOf(item.Name);
            if (id is null)
            {
                damaged.Add((item.Name, "not a valid index object name"));
                return;
            }

            byte[] bytes;
            try
            {
                bytes = await Target.ReadAllAsync(item.Name, ct);
            }
            catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
            {
                return; // deleted by a concurrent prune
            }

            if (new ChunkId(SHA256.HashData(bytes)) != id.Value)
            {
                damaged.Add((item.Name, "its content does not match its name (hash mismatch)"));
                return;
            }

            using var codec = CreateCodec();
            var body = codec.TryDecode(bytes, SealKind.Index, out var error);
            if (body is null)
            {
                damaged.Add((item.Name, error!));
                return;
            }

            try
            {
                var (superseded, packs) = PackCodec.ReadIndexBody(body);
                loaded.Add((id.Value, bytes.LongLength, superseded, packs));
            }
            catch (FormatException ex)
            {
                damaged.Add((item.Name, ex.Message));
            }
        });

        var present = loaded.Select(l => l.Id).ToHashSet();
        var supersededIds = loaded.SelectMany(l => l.Superseded).Where(present.Contains).ToHashSet();
        var objects = loaded.Where(l => !supersededIds.Contains(l.Id)).OrderBy(l => l.Id).Select(l => new IndexObject(l.Id, l.Size, l.Packs)).ToList();
        return new IndexSnapshot(objects, supersededIds.ToList(), damaged.OrderBy(d => d.Name, StringComparer.Ordinal).ToList());
    }

    /// <summary>The index, loaded once per repository object. Damaged index objects are skipped and listed in it.</summary>
    public async Task<ChunkIndex> LoadIndexAsync(CancellationToken cancellationToken)
    {
        if (_index is not null)
        {
            return _index;
        }

        var snapshot = await LoadIndexObjectsAsync(cancellationToken);
        var index = new ChunkIndex();
        foreach (var obj in snapshot.Objects)
        {
            index.IndexObjects.Add(obj.Id);
            foreach (var pack in obj.Packs)
            {
                index.AddPack(pack);
            }
        }

        index.DamagedIndexObjects.AddRange(snapshot.Damaged);
        foreach (var (name, error) in snapshot.Damaged)
        {
            LogDamagedIndex(_logger, name, error);
        }

        _index = index;
        return index;
    }

    /// <summary>Forgets the cached index (after a prune or a backup in the same process).</summary>
    public void InvalidateIndex() => _index = null;

    public async Task<List<string>> ListBackupIdsAsync(CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var item in await Target.ListAllAsync(ObjectNames.BackupsPrefix, cancellationToken))
        {
            var id = item.Name[ObjectNames.BackupsPrefix.Length..];
            if (BackupId.IsValid(id))
            {
                ids.Add(id);
            }
        }

        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    public async Task<Manifest> LoadManifestAsync(string backupId, CancellationToken cancellationToken)
    {
        if (!BackupId.IsValid(backupId))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{backupId}' is not a backup id", "backup ids look like 20261122-140300-3f9a; `lifeboat list` shows them");
        }

        byte[] body;
        try
        {
            body = await LoadSealedAsync(ObjectNames.Backup(backupId), SealKind.Manifest, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            throw NoSuchBackup(backupId, ex);
        }

        try
        {
            var manifest = Manifest.Parse(body);
            if (manifest.Id != backupId)
            {
                throw new DamageException($"manifest {ObjectNames.Backup(backupId)} describes backup {manifest.Id}", [ObjectNames.Backup(backupId)], [backupId]);
            }

            return manifest;
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new DamageException($"manifest {ObjectNames.Backup(backupId)} is not valid: {ex.Message}", [ObjectNames.Backup(backupId)], [backupId]);
        }
    }

    /// <summary>
    /// The error for a backup id that names no backup here (exit 2, the same for every kind of source): the id, the
    /// repository, and how to list the backups.
    /// </summary>
    public LifeboatException NoSuchBackup(string backupId, Exception? cause = null)
        => new(ErrorCode.NoSuchBackup, $"there is no backup {backupId} in {DisplayName}", "`lifeboat list` shows the backups (`lifeboat list --source NAME` those of one source)", cause);

    /// <summary>Every manifest; damaged ones are returned separately instead of failing the whole listing.</summary>
    public async Task<(List<Manifest> Manifests, List<(string Id, string Error)> Damaged)> LoadAllManifestsAsync(CancellationToken cancellationToken)
    {
        var ids = await ListBackupIdsAsync(cancellationToken);
        var manifests = new ConcurrentBag<Manifest>();
        var damaged = new ConcurrentBag<(string, string)>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            try
            {
                manifests.Add(await LoadManifestAsync(id, ct));
            }
            catch (DamageException ex)
            {
                damaged.Add((id, ex.Message));
            }
            catch (LifeboatException ex) when (ex.Code is ErrorCode.NotFound or ErrorCode.NoSuchBackup)
            {
                // deleted while listing
            }
        });

        return (manifests.OrderBy(m => m.Id, StringComparer.Ordinal).ToList(), damaged.OrderBy(d => d.Item1, StringComparer.Ordinal).ToList());
    }

    /// <summary>Writes a manifest: the last step of a backup (it commits the backup).</summary>
    public Task<long> SaveManifestAsync(Manifest manifest, CancellationToken cancellationToken)
        => SaveSealedAsync(ObjectNames.Backup(manifest.Id), manifest.ToJson(), SealKind.Manifest, SaveMode.Create, cancellationToken);

    public Task DeleteManifestAsync(string backupId, CancellationToken cancellationToken)
        => Target.DeleteAsync(ObjectNames.Backup(backupId), cancellationToken);

    /// <summary>Pins a backup: retention never expires it (repository format: pins/).</summary>
    public async Task PinAsync(string backupId, string? reason, CancellationToken cancellationToken)
    {
        await LoadManifestAsync(backupId, cancellationToken);
        // Written with Utf8JsonWriter, not JsonSerializer: reflection-based serialization fails the Native AOT publish.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", backupId);
            writer.WriteString("pinned", Time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteString("reason", reason);
            writer.WriteEndObject();
        }

        var json = buffer.WrittenSpan.ToArray();
        await Target.SaveAsync(ObjectNames.Pin(backupId), ObjectSource.FromBytes(json), SaveMode.Replace, cancellationToken);
    }

    public Task UnpinAsync(string backupId, CancellationToken cancellationToken) => Target.DeleteAsync(ObjectNames.Pin(backupId), cancellationToken);

    /// <summary>The ids of pinned backups.</summary>
    public async Task<HashSet<string>> PinnedAsync(CancellationToken cancellationToken)
        => (await Target.ListAllAsync(ObjectNames.PinsPrefix, cancellationToken)).Select(o => o.Name[ObjectNames.PinsPrefix.Length..]).Where(BackupId.IsValid).ToHashSet(StringComparer.Ordinal);

    public ValueTask DisposeAsync()
    {
        Sealer.Dispose();
        return Target.DisposeAsync();
    }

    /// <summary>
    /// Refuses a location a new repository must not be created in: one that already holds a repository, or one that is not
    /// empty (a local directory with entries, a bucket or prefix with objects) and holds no repository <c>config</c>. A
    /// missing directory and one that holds only what an interrupted init leaves (<c>keys/</c>, <c>tmp/</c>) are fine.
    /// Changes nothing.
    /// </summary>
    public static async Task CheckInitLocationAsync(ITarget target, CancellationToken cancellationToken)
    {
        if (await StatOrUnavailableAsync(target, ObjectNames.Config, cancellationToken) is not null)
        {
            throw new LifeboatException(ErrorCode.Refused, $"a repository already exists at {target.DisplayName}", "use it as it is, or choose another location for a new one");
        }

        const string Hint = "choose an empty or a new directory for the new repository (`repo init` creates a missing one), or name the directory of an existing repository";
        if (target.Innermost() is LocalTarget local)
        {
            if (!Directory.Exists(local.Root))
            {
                if (File.Exists(local.Root))
                {
                    throw new LifeboatException(ErrorCode.InvalidInput, $"{local.Root} is a file, not a directory", Hint);
                }

                return;
            }

            List<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(local.Root).Select(Path.GetFileName).ToList()!;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"cannot read the directory {local.Root}: {ex.Message}", "check the path and its permissions", ex);
            }

            var leftovers = new[] { ObjectNames.KeysPrefix.TrimEnd('/'), LocalTarget.SpoolDirectoryName };
            if (entries.All(e => leftovers.Contains(e, StringComparer.Ordinal) && Directory.Exists(Path.Combine(local.Root, e))))
            {
                return;
            }

            throw new LifeboatException(
                ErrorCode.Refused,
                $"the directory {local.Root} is not empty and is not a Lifeboat repository: it holds {entries.Count} {(entries.Count == 1 ? "entry" : "entries")} and no repository `config`",
                Hint);
        }

        var found = new List<string>();
        try
        {
            await foreach (var item in target.ListAsync("", cancellationToken))
            {
                var last = item.Name[(item.Name.LastIndexOf('/') + 1)..];
                if (last.Contains(".tmp-", StringComparison.Ordinal) || item.Name.StartsWith(ObjectNames.KeysPrefix, StringComparison.Ordinal) || item.Name.StartsWith(ReplicaIdentity.ProbePrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                found.Add(item.Name);
                if (found.Count == 3)
                {
                    break;
                }
            }
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            return;
        }
        catch (TargetException ex) when (ex.Kind is TargetErrorKind.AccessDenied or TargetErrorKind.AuthenticationFailed or TargetErrorKind.Misconfigured)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"cannot use {target.DisplayName}: {ex.Message}", ex.Hint, ex);
        }

        if (found.Count > 0)
        {
            throw new LifeboatException(
                ErrorCode.Refused,
                $"{target.DisplayName} is not empty and is not a Lifeboat repository: it holds objects ({string.Join(", ", found)}{(found.Count == 3 ? ", …" : "")}) and no repository `config`",
                "choose an empty bucket, container, prefix or directory for the new repository, or name the location of an existing repository");
        }
    }

    private static async Task<ObjectInfo?> StatOrUnavailableAsync(ITarget target, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await target.StatAsync(name, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind is TargetErrorKind.AccessDenied or TargetErrorKind.AuthenticationFailed or TargetErrorKind.Misconfigured)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"cannot use {target.DisplayName}: {ex.Message}", ex.Hint, ex);
        }
    }

    internal static void CreateLocalRoot(string root)
    {
        try
        {
            if (!Directory.Exists(root))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(root);
                }
                else
                {
                    Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"cannot create the repository directory {root}: {ex.Message}", "check the path and the permissions of its parent directory", ex);
        }
    }

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Key slot {Object} is damaged and was skipped: {Problem}")]
    private static partial void LogDamagedKeySlot(ILogger logger, string @object, string problem);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Index object {Object} is damaged and was skipped: {Error}")]
    private static partial void LogDamagedIndex(ILogger logger, string @object, string error);
}

/// <summary>An object under <c>keys/</c> that does not decode as a key slot.</summary>
/// <param name="SlotId">The slot id, from the object name.</param>
/// <param name="Object">The object name (<c>keys/&lt;slot-id&gt;</c>).</param>
/// <param name="Problem">What is wrong with it.</param>
public sealed record DamagedKeySlot(string SlotId, string Object, string Problem);

/// <summary>An index object as read: its id, stored size and the packs it lists.</summary>
public sealed record IndexObject(ChunkId Id, long Size, List<PackDescription> Packs);

/// <summary>The index objects of a repository at one moment.</summary>
public sealed record IndexSnapshot(List<IndexObject> Objects, List<ChunkId> Superseded, List<(string Name, string Error)> Damaged);
