using System.Buffers.Text;
using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Engine.Application;

/// <summary>
/// One page of a list (the API's one list shape): the items, and the cursor of the next page (null on the last).
/// </summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next = null);

/// <summary>Opaque cursors: where the previous page ended, as base64url text the client passes back unchanged.</summary>
public static class Cursor
{
    public static string Encode(params string[] parts) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('\n', parts)));

    /// <summary>The parts of a cursor, or a Usage error naming «cursor» when it was not made by <see cref="Encode"/>.</summary>
    public static string[] Decode(string cursor, int parts)
    {
        try
        {
            var decoded = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor)).Split('\n');
            if (decoded.Length == parts)
            {
                return decoded;
            }
        }
        catch (FormatException)
        {
        }

        throw new LifeboatException(ErrorCode.Usage, $"«cursor» '{cursor}' is not a cursor of this list", "pass the `next` value of the previous page unchanged, or leave it out for the first page");
    }

    /// <summary>A page size between 1 and <paramref name="max"/>, or a Usage error naming «limit».</summary>
    public static int Limit(int limit, int max = 1000) => limit >= 1 && limit <= max
        ? limit
        : throw new LifeboatException(ErrorCode.Usage, $"«limit» {limit} is out of range", $"ask for 1 to {max} items per page");
}
