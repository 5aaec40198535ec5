namespace Lifeboat.Engine.Application;

/// <summary>
/// A destructive operation about to run, exactly as it will run: the approval gate decides on it, and an approval
/// request (the approvals issue) holds it — its parameters hashed — so that what is approved is what executes.
/// </summary>
/// <param name="Operation">A stable name: backup.forget, repository.prune, source.remove, target.remove, key.remove, restore.overwrite, retention.shorten.</param>
/// <param name="Source">The source it concerns, if any.</param>
/// <param name="Description">What will happen, for people (no secrets).</param>
/// <param name="Parameters">Every parameter that decides what happens.</param>
/// <param name="FallbackPolicy">When the tenant has no policy for <paramref name="Operation"/>, the operation whose policy decides (a change of a policy falls back on that policy).</param>
public sealed record DestructiveOperation(string Operation, string? Source, string Description, IReadOnlyDictionary<string, string?> Parameters, string? FallbackPolicy = null);

/// <summary>
/// The second seam of every use case: asked before anything destructive is done. Returns when the operation may go on;
/// throws a <see cref="Core.LifeboatException"/> when it needs approval or was refused (nothing done).
/// </summary>
public interface IApprovalGate
{
    Task AuthorizeAsync(DestructiveOperation operation, CancellationToken cancellationToken);
}

/// <summary>The gate of a build without approvals (tests of other features): everything is allowed.</summary>
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

    /// <summary>Changing or removing an approval policy (turning approvals off is removing the last one).</summary>
    public const string ChangePolicy = "approvals.policy";

    /// <summary>Creating a token with a role that may approve (else one admin makes a second "person").</summary>
    public const string CreateToken = "token.create";

    /// <summary>Removing a tenant (docs/tenants.md): its data is deleted after the grace period.</summary>
    public const string RemoveTenant = "tenant.remove";

    /// <summary>Every operation a policy can name, in the order docs/approvals.md lists them.</summary>
    public static readonly IReadOnlyList<string> All = [RestoreOverwrite, Forget, Expire, Prune, ShortenRetention, RemoveSource, RemoveTarget, RemoveKey, ChangePolicy, CreateToken, RemoveTenant];

    /// <summary>What <c>approvals policy set default</c> covers (the issue's list; prune deletes no backup, so it is opt-in).</summary>
    public static readonly IReadOnlyList<string> Defaults = [RestoreOverwrite, Forget, Expire, ShortenRetention, RemoveSource, RemoveTarget, RemoveKey, ChangePolicy, CreateToken, RemoveTenant];
}

/// <summary>
/// The operation needs approval: nothing was done, and <see cref="Request"/> holds it (exit 4; the API answers 202 with
/// the request). The message names the request and how to get it approved.
/// </summary>
public sealed class ApprovalRequiredException : Core.LifeboatException
{
    public ApprovalRequiredException(UseCases.Approvals.ApprovalView request, bool existing)
        : base(
            Core.ErrorCode.ApprovalRequired,
            $"{request.Operation} needs approval: {(existing ? "it waits in" : "it is now")} approval request {request.Id} ({request.Description}); " +
            $"{request.Required} approval(s) needed{(request.Role is null ? "" : " from the role " + request.Role)}{(request.Users is null ? "" : " or from " + request.Users)}, before {request.ApproveBy:yyyy-MM-dd HH:mm:ss}Z",
            $"an approver runs `lifeboat approvals approve {request.Id}` (or POST /api/v1/approvals/{request.Id}/approve); then run the same command again, or add --wait to wait for the decision")
    {
        Request = request;
    }

    public UseCases.Approvals.ApprovalView Request { get; }
}

/// <summary>
/// Who a person is for approvals: one principal per person, whatever token they hold. A token's principal is its name
/// (tokens named alike are one person); the command line's is <c>cli:USER</c> (the OS user); the scheduler's
/// <c>scheduler:NAME</c>; an identity provider's <c>oidc:SUBJECT</c>.
/// </summary>
public static class ApprovalPrincipal
{
    public static string Of(Actor actor) => actor.Kind switch
    {
        "token" => actor.Name,
        _ => actor.Kind + ":" + actor.Name,
    };
}
