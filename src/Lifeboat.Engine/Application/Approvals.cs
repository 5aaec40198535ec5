namespace Lifeboat.Engine.Application;

/// <summary>
/// A destructive operation about to run, exactly as it will run: the approval gate decides on it, and an approval
/// request (the approvals issue) holds it — its parameters hashed — so that what is approved is what executes.
/// </summary>
/// <param name="Operation">A stable name: backup.forget, repository.prune, source.remove, target.remove, key.remove, restore.overwrite, retention.shorten.</param>
/// <param name="Source">The source it concerns, if any.</param>
/// <param name="Description">What will happen, for people (no secrets).</param>
/// <param name="Parameters">Every parameter that decides what happens.</param>
public sealed record DestructiveOperation(string Operation, string? Source, string Description, IReadOnlyDictionary<string, string?> Parameters);

/// <summary>
/// The second seam of every use case: asked before anything destructive is done. Returns when the operation may go on;
/// throws a <see cref="Core.LifeboatException"/> when it needs approval or was refused (nothing done).
/// </summary>
public interface IApprovalGate
{
    Task AuthorizeAsync(DestructiveOperation operation, CancellationToken cancellationToken);
}

/// <summary>The gate when approvals are off: everything is allowed.</summary>
public sealed class AllowAllGate : IApprovalGate
{
    public Task AuthorizeAsync(DestructiveOperation operation, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Stable names of the destructive operations.</summary>
public static class DestructiveOperations
{
    public const string Forget = "backup.forget";
    public const string Expire = "backup.expire";
    public const string Prune = "repository.prune";
    public const string RemoveSource = "source.remove";
    public const string RemoveTarget = "target.remove";
    public const string RemoveKey = "key.remove";
    public const string RestoreOverwrite = "restore.overwrite";
    public const string ShortenRetention = "retention.shorten";
}
