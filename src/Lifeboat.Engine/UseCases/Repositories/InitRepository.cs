using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Repository.Crypto;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.UseCases.Repositories;

/// <param name="Repo">Where: file:///abs/path, s3://…, azure://…, sftp://….</param>
/// <param name="InsecureNoEncryption">Store data unencrypted (integrity checks only).</param>
/// <param name="CompressionLevel">zstd level for new data, 1–19.</param>
/// <param name="PackSize">Target pack size (e.g. 32MiB).</param>
/// <remarks>The key comes from the call's key options (key file, passphrase file) or a new passphrase.</remarks>
public sealed record InitRepositoryRequest(string Repo, bool InsecureNoEncryption = false, int CompressionLevel = 3, string PackSize = "32MiB");

/// <param name="KeySlot">The first key slot's id, or null when unencrypted.</param>
/// <param name="KeyKind">key file or passphrase.</param>
/// <param name="CreatedKeyFile">A new key file written (keep a copy off this machine), or null.</param>
public sealed record InitRepositoryResult(string Repository, string Id, string Encryption, string? KeySlot, string? KeyKind, int CompressionLevel, long PackSize, string ConfigPath, string? CreatedKeyFile);

/// <summary>`repo init`: creates a repository on its target and records it (and its key file or passphrase file) in the configuration.</summary>
public sealed class InitRepository : IUseCase<InitRepositoryRequest, InitRepositoryResult>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly TimeProvider _time;
    private readonly Events _events;

    public InitRepository(Workspace workspace, RepositoryOpener opener, TimeProvider time, Events events)
    {
        _workspace = workspace;
        _opener = opener;
        _time = time;
        _events = events;
    }

    public async Task<InitRepositoryResult> ExecuteAsync(InitRepositoryRequest request, CancellationToken cancellationToken)
    {
        var existing = _workspace.Config.Exists ? _workspace.Options.Repository.Url : null;
        if (existing is not null && existing != request.Repo)
        {
            throw new LifeboatException(ErrorCode.Refused, $"{_workspace.Config.Path} already names the repository {Redact.Url(existing)}", "use another configuration file («config» FILE) for a second repository");
        }

        var keys = _workspace.Keys;
        if (request.InsecureNoEncryption && (keys.KeyFile is not null || keys.PassphraseFile is not null))
        {
            throw new LifeboatException(ErrorCode.Usage, "«insecureNoEncryption» cannot be combined with «keyFile» or «passphraseFile»", "choose one");
        }

        // Refuse a location that is not empty before anything is written (a new key file included).
        var target = _opener.OpenTarget(request.Repo);
        try
        {
            await Repo.CheckInitLocationAsync(target, cancellationToken);
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }

        KeyMaterial? key = null;
        string? keyFile = null, passphraseFile = null, created = null;
        if (!request.InsecureNoEncryption)
        {
            if (keys.KeyFile is not null)
            {
                keyFile = _workspace.ResolvePath(keys.KeyFile);
                key = NewKeys.FromKeyFile(keyFile, out var isNew);
                created = isNew ? keyFile : null;
            }
            else if (keys.PassphraseFile is not null)
            {
                passphraseFile = _workspace.ResolvePath(keys.PassphraseFile);
                key = KeyMaterial.FromPassphraseFile(passphraseFile);
            }
            else
            {
                key = NewKeys.Passphrase(keys, _workspace.Environment, KeyResolver.PassphraseVariable);
            }
        }

        await using var repository = await Repo.InitAsync(
            target,
            new Lifeboat.Repository.InitOptions
            {
                Key = key,
                InsecureNoEncryption = request.InsecureNoEncryption,
                CompressionLevel = request.CompressionLevel,
                PackSize = ByteSize.Parse(request.PackSize, FieldText.Ref("packSize")),
            },
            _time,
            null,
            cancellationToken);
        _workspace.EditConfig(root =>
        {
            var section = ConfigFile.Section(root, "Repository");
            section["Url"] = request.Repo;
            if (keyFile is not null)
            {
                section["KeyFile"] = keyFile;
                section.Remove("PassphraseFile");
            }

            if (passphraseFile is not null)
            {
                section["PassphraseFile"] = passphraseFile;
                section.Remove("KeyFile");
            }
        });
        await _events.PublishAsync(new RepositoryChanged("initialized", repository.DisplayName, repository.Config.Id, repository.Config.Encryption), cancellationToken);
        return new InitRepositoryResult(
            repository.DisplayName,
            repository.Config.Id,
            repository.Config.Encryption,
            repository.OpenedSlotId,
            key is null ? null : key.IsKeyFile ? "key file" : "passphrase",
            repository.Config.Compression.Level,
            repository.Config.PackSize,
            _workspace.Config.Path,
            created);
    }
}
