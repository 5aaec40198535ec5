using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Engine.Notifications;

/// <summary>A signing secret of a webhook; <see cref="Expires"/>: when a rotated-out secret stops signing.</summary>
public sealed record WebhookSecret(string Secret, DateTimeOffset Created, DateTimeOffset? Expires = null);

/// <summary>
/// The Standard Webhooks signature (standardwebhooks.com): secrets are <c>whsec_</c> + base64 of 24–64 random bytes;
/// <c>webhook-signature</c> is <c>v1,</c> + base64(HMAC-SHA256(secret bytes, <c>id.timestamp.body</c>)), one per
/// secret in force, separated by spaces — during a rotation both the new and the previous secret sign, so a receiver
/// holding either verifies.
/// </summary>
public static class WebhookSigning
{
    public const string Prefix = "whsec_";

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key bytes of a <c>whsec_</c> secret; a Usage error naming «field» when it is not one.</summary>
    public static byte[] Key(string secret, string field = "secret")
    {
        if (secret.StartsWith(Prefix, StringComparison.Ordinal))
        {
            try
            {
                var key = Convert.FromBase64String(secret[Prefix.Length..]);
                if (key.Length is >= 24 and <= 64)
                {
                    return key;
                }
            }
            catch (FormatException)
            {
            }
        }

        throw new LifeboatException(ErrorCode.Usage, $"«{field}» is not a Standard Webhooks secret", "give whsec_ followed by the base64 of 24 to 64 random bytes, or leave it out and one is generated (and shown once)");
    }

    /// <summary>The value of <c>webhook-signature</c> for the message, signed with each secret.</summary>
    public static string Signature(string id, long timestamp, string body, IEnumerable<string> secrets)
    {
        var content = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}");
        return string.Join(' ', secrets.Select(s => "v1," + Convert.ToBase64String(HMACSHA256.HashData(Key(s), content))));
    }

    /// <summary>The secrets that sign at <paramref name="now"/>: the current one and any rotated-out one whose overlap has not ended.</summary>
    public static IReadOnlyList<string> InForce(IEnumerable<WebhookSecret> secrets, DateTimeOffset now)
        => secrets.Where(s => s.Expires is not { } e || e > now).Select(s => s.Secret).ToList();
}
