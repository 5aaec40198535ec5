using Lifeboat.Core;

namespace Lifeboat.Engine.Application;

/// <summary>
/// A failed call as data: the error code, the CLI.md exit code, the message and hint with their «field» references
/// rendered by the adapter (the CLI as flags, the API as JSON fields), the fields named, and for damage what is damaged.
/// </summary>
public sealed record ErrorView(
    string Code,
    int ExitCode,
    string Message,
    string? Hint,
    IReadOnlyList<string>? Fields = null,
    IReadOnlyList<string>? DamagedObjects = null,
    IReadOnlyList<string>? AffectedBackups = null)
{
    public static ErrorView From(LifeboatException error, Func<string, string> renderField)
    {
        var fields = error.Fields;
        return new ErrorView(
            error.Code.ToString(),
            error.ExitCode,
            FieldText.Render(error.Message, renderField),
            error.Hint is null ? null : FieldText.Render(error.Hint, renderField),
            fields.Count == 0 ? null : fields,
            (error as DamageException)?.DamagedObjects,
            (error as DamageException)?.AffectedBackups);
    }

    public static ErrorView Of(ErrorCode code, string message, string? hint) => new(code.ToString(), code.ToExitCode(), message, hint);
}

/// <summary>The document <c>--json</c> prints on a failure: <c>{"error": {...}}</c>, and the approval request when the operation needs approval.</summary>
public sealed record ErrorDocument(ErrorView Error, UseCases.Approvals.ApprovalView? Approval = null);
