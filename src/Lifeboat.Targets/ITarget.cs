namespace Lifeboat.Targets;

/// <summary>
/// A place that stores named, immutable objects (repository format, section 2). Narrow on purpose:
/// retries, concurrency limits and logging are decorators composed in <see cref="TargetFactory"/>.
/// </summary>
/// <remarks>
/// Implementations must be safe for concurrent use. Every method throws <see cref="TargetException"/>
/// for storage failures, classified as transient or permanent where the failure arises; only the retry
/// decorator acts on that classification. Names use '/' as separator and never start with '/'.
/// </remarks>
public interface ITarget : IAsyncDisposable
{
    /// <summary>A printable description of the target (kind and location). Never contains a secret.</summary>
    string DisplayName { get; }

    TargetCapabilities Capabilities { get; }

    /// <summary>
    /// Stores <paramref name="content"/> under <paramref name="name"/> atomically: afterwards the object exists
    /// whole (durable: fsynced, or the upload completed), or not at all. <paramref name="content"/> may be read
    /// several times (a retry sends identical bytes).
    /// </summary>
    /// <param name="mode">
    /// <see cref="SaveMode.Create"/> fails with <see cref="TargetErrorKind.AlreadyExists"/> when the object exists
    /// (atomically where <see cref="TargetCapabilities.AtomicCreate"/> says so);
    /// <see cref="SaveMode.Replace"/> replaces it.
    /// </param>
    Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the local file at <paramref name="path"/> under <paramref name="name"/>, like <see cref="SaveAsync"/>.
    /// A local target may move the file into place instead of copying it: afterwards the caller must not use the file,
    /// and deletes it if it still exists.
    /// </summary>
    Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken);

    /// <summary>
    /// Reads <paramref name="length"/> bytes from <paramref name="offset"/> (<paramref name="length"/> &lt; 0: to the end)
    /// and hands them to <paramref name="consumer"/> as a stream. A retry calls the consumer again with a new stream,
    /// so the consumer must start from scratch each time. A missing object is a permanent
    /// <see cref="TargetErrorKind.NotFound"/> error.
    /// </summary>
    Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken);

    /// <summary>The object's size, or null when it does not exist.</summary>
    Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every object whose name starts with <paramref name="prefix"/>, in no particular order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Deletes the object. Deleting an object that does not exist succeeds.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);
}

public enum SaveMode
{
    Create,
    Replace,
}

/// <param name="AtomicCreate">Whether <see cref="SaveMode.Create"/> is atomic (no race between check and write).</param>
/// <param name="DefaultConcurrency">How many operations run at once by default.</param>
/// <param name="IsLocal">Whether objects are files on this machine (a local directory).</param>
/// <param name="SpoolDirectory">
/// Where writers should stage files passed to <see cref="ITarget.SaveFileAsync"/> (on the same file system, so that
/// saving is a rename), or null for the system's temporary directory.
/// </param>
public sealed record TargetCapabilities(bool AtomicCreate, int DefaultConcurrency, bool IsLocal, string? SpoolDirectory = null);

/// <summary>An object's name and size, and when it was written where the target knows it.</summary>
/// <remarks><see cref="Modified"/> is informational: two infos are equal when name and size are.</remarks>
public sealed record ObjectInfo(string Name, long Size)
{
    public DateTimeOffset? Modified { get; init; }

    public bool Equals(ObjectInfo? other) => other is not null && Name == other.Name && Size == other.Size;

    public override int GetHashCode() => HashCode.Combine(Name, Size);
}
