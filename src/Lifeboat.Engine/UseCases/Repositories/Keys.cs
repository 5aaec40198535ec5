using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Repository.Crypto;

namespace Lifeboat.Engine.UseCases.Repositories;

public sealed record ListKeysRequest;

/// <param name="Current">The slot that opened the repository for this call.</param>
/// <param name="Damage">Set when the slot object does not decode (skipped when opening; then only the id is known).</param>
public sealed record KeySlotView(string Id, string Kind, DateTimeOffset? Created, string? Host, string? User, string? Label, bool Current, string? Damage = null);

public sealed record ListKeysResult(string Repository, IReadOnlyList<KeySlotView> Slots);

/// <summary>`repo key list`: the key slots that open the repository (never the keys themselves).</summary>
public sealed class ListKeys : IUseCase<ListKeysRequest, ListKeysResult>
{
    private readonly RepositoryOpener _opener;

    public ListKeys(RepositoryOpener opener) => _opener = opener;

    public async Task<ListKeysResult> ExecuteAsync(ListKeysRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var (slots, damaged) = await repository.ListKeysWithDamageAsync(cancellationToken);
        var views = slots.Select(s => new KeySlotView(s.Id, s.Kind, s.Created, s.Host, s.User, s.Label, s.Id == repository.OpenedSlotId))
            .Concat(damaged.Select(d => new KeySlotView(d.SlotId, "damaged", null, null, null, null, false, d.Problem)))
            .ToList();
        return new ListKeysResult(repository.DisplayName, views);
    }
}

/// <param name="NewKeyFile">Key file for the new slot (created when it does not exist).</param>
/// <param name="NewPassphraseFile">File holding the new passphrase.</param>
/// <param name="Label">A note about the new slot (who or what uses it).</param>
public sealed record AddKeyRequest(string? NewKeyFile = null, string? NewPassphraseFile = null, string? Label = null);

public sealed record AddKeyResult(string Repository, string Slot, string Kind, string? CreatedKeyFile);

/// <summary>`repo key add`: another passphrase or key file for the same master key; data is not re-encrypted.</summary>
public sealed class AddKey : IUseCase<AddKeyRequest, AddKeyResult>
{
    public const string NewPassphraseVariable = "LIFEBOAT_NEW_PASSPHRASE";
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly Events _events;

    public AddKey(Workspace workspace, RepositoryOpener opener, Events events)
    {
        _workspace = workspace;
        _opener = opener;
        _events = events;
    }

    public async Task<AddKeyResult> ExecuteAsync(AddKeyRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        KeyMaterial material;
        string? created = null;
        if (request.NewKeyFile is { } kf)
        {
            var path = _workspace.ResolvePath(kf);
            material = NewKeys.FromKeyFile(path, out var isNew);
            created = isNew ? path : null;
        }
        else if (request.NewPassphraseFile is { } pf)
        {
            material = KeyMaterial.FromPassphraseFile(_workspace.ResolvePath(pf));
        }
        else
        {
            material = NewKeys.Passphrase(_workspace.Keys, _workspace.Environment, NewPassphraseVariable);
        }

        var slot = await repository.AddKeyAsync(material, request.Label, cancellationToken);
        await _events.PublishAsync(new RepositoryChanged("key_added", repository.DisplayName, slot.Id[..8], slot.Kind), cancellationToken);
        return new AddKeyResult(repository.DisplayName, slot.Id, slot.Kind, created);
    }
}

/// <param name="Slot">Key slot id (a unique prefix is enough).</param>
public sealed record RemoveKeyRequest(string Slot);

public sealed record RemoveKeyResult(string Repository, string Slot);

/// <summary>`repo key remove`: removes a key slot, never the last one (destructive: approval gate).</summary>
public sealed class RemoveKey : IUseCase<RemoveKeyRequest, RemoveKeyResult>
{
    private readonly RepositoryOpener _opener;
    private readonly IApprovalGate _gate;
    private readonly Events _events;

    public RemoveKey(RepositoryOpener opener, IApprovalGate gate, Events events)
    {
        _opener = opener;
        _gate = gate;
        _events = events;
    }

    public async Task<RemoveKeyResult> ExecuteAsync(RemoveKeyRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.RemoveKey, null, $"remove key slot {request.Slot} of {repository.DisplayName}", new Dictionary<string, string?> { ["slot"] = request.Slot }), cancellationToken);
        await repository.RemoveKeyAsync(request.Slot, cancellationToken);
        await _events.PublishAsync(new RepositoryChanged("key_removed", repository.DisplayName, request.Slot), cancellationToken);
        return new RemoveKeyResult(repository.DisplayName, request.Slot);
    }
}
