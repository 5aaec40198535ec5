namespace Lifeboat.Targets;

public static class TargetExtensions
{
    /// <summary>Reads a whole object into memory. For small objects (config, keys, manifests, indexes, locks).</summary>
    public static async Task<byte[]> ReadAllAsync(this ITarget target, string name, CancellationToken cancellationToken)
    {
        byte[] result = [];
        await target.LoadAsync(
            name,
            0,
            -1,
            async (stream, ct) =>
            {
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, ct);
                result = buffer.ToArray();
            },
            cancellationToken);
        return result;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    public static async Task<byte[]> ReadRangeAsync(this ITarget target, string name, long offset, int length, CancellationToken cancellationToken)
    {
        var result = new byte[length];
        await target.LoadAsync(
            name,
            offset,
            length,
            async (stream, ct) =>
            {
                var read = 0;
                while (read < length)
                {
                    var n = await stream.ReadAsync(result.AsMemory(read), ct);
                    if (n == 0)
                    {
                        throw new TargetException(TargetErrorKind.Other, $"{target.DisplayName}/{name} ended after {read} of {length} bytes at offset {offset}", isTransient: true);
                    }

                    read += n;
                }
            },
            cancellationToken);
        return result;
    }

    /// <summary>Lists the objects under a prefix into a list.</summary>
    public static async Task<List<ObjectInfo>> ListAllAsync(this ITarget target, string prefix, CancellationToken cancellationToken)
    {
        var list = new List<ObjectInfo>();
        await foreach (var item in target.ListAsync(prefix, cancellationToken))
        {
            list.Add(item);
        }

        return list;
    }

    /// <summary>Unwraps decorators down to the target that does the I/O.</summary>
    public static ITarget Innermost(this ITarget target)
    {
        while (true)
        {
            switch (target)
            {
                case RetryingTarget r:
                    target = r.Inner;
                    break;
                case ConcurrencyLimitedTarget c:
                    target = c.Inner;
                    break;
                default:
                    return target;
            }
        }
    }
}
