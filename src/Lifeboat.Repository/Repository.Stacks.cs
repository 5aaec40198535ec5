using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;

namespace Lifeboat.Repository;

public sealed partial class Repository
{
    /// <summary>Writes a stack record, after the manifests of all its members (it commits the stack backup).</summary>
    public Task<long> SaveStackAsync(StackRecord record, CancellationToken cancellationToken)
        => SaveSealedAsync(ObjectNames.Stack(record.Id), record.ToJson(), SealKind.Stack, SaveMode.Create, cancellationToken);

    public async Task<StackRecord> LoadStackAsync(string id, CancellationToken cancellationToken)
    {
        if (!BackupId.IsValid(id))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{id}' is not a stack backup id", "stack backup ids look like 20261122-140300-3f9a; `lifeboat stack list` shows them");
        }

        byte[] body;
        try
        {
            body = await LoadSealedAsync(ObjectNames.Stack(id), SealKind.Stack, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            throw new LifeboatException(ErrorCode.NoSuchBackup, $"there is no stack backup {id} in {DisplayName}", "`lifeboat stack list --backups` shows the stack backups", ex);
        }

        try
        {
            var record = StackRecord.Parse(body);
            return record.Id == id ? record : throw new DamageException($"stack record {ObjectNames.Stack(id)} describes {record.Id}", [ObjectNames.Stack(id)], []);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new DamageException($"stack record {ObjectNames.Stack(id)} is not valid: {ex.Message}", [ObjectNames.Stack(id)], []);
        }
    }

    /// <summary>Every stack record, oldest first (damaged ones are skipped and returned by name).</summary>
    public async Task<(List<StackRecord> Stacks, List<string> Damaged)> LoadStacksAsync(CancellationToken cancellationToken)
    {
        var names = await Target.ListAllAsync(ObjectNames.StacksPrefix, cancellationToken);
        var stacks = new List<StackRecord>();
        var damaged = new List<string>();
        foreach (var name in names.Select(o => o.Name[ObjectNames.StacksPrefix.Length..]).Where(BackupId.IsValid).Order(StringComparer.Ordinal))
        {
            try
            {
                stacks.Add(await LoadStackAsync(name, cancellationToken));
            }
            catch (DamageException)
            {
                damaged.Add(ObjectNames.Stack(name));
            }
            catch (LifeboatException ex) when (ex.Code is ErrorCode.NotFound or ErrorCode.NoSuchBackup)
            {
                // deleted while listing
            }
        }

        return (stacks, damaged);
    }

    public Task DeleteStackAsync(string id, CancellationToken cancellationToken) => Target.DeleteAsync(ObjectNames.Stack(id), cancellationToken);
}
