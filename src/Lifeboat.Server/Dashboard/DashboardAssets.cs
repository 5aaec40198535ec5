using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// The dashboard's static files (htmx, its SSE extension, the style sheet, their licences), embedded in the assembly
/// (Dashboard/assets/): nothing is fetched from a CDN and nothing is read from disk at run time. Each is served at
/// <c>/assets/NAME-HASH.EXT</c> (HASH: the first 12 hex digits of its SHA-256), cached for a year as immutable — a
/// changed file gets a new URL.
/// </summary>
public static class DashboardAssets
{
    private const string Prefix = "Lifeboat.Server.Dashboard.assets.";

    private static readonly Lazy<FrozenDictionary<string, Asset>> ByUrl = new(Load);

    /// <summary>Asset file name (e.g. <c>htmx.min.js</c>) → the URL it is served at.</summary>
    private static readonly Lazy<FrozenDictionary<string, string>> Urls = new(() => ByUrl.Value.ToFrozenDictionary(a => a.Value.Name, a => "/assets/" + a.Key, StringComparer.Ordinal));

    /// <summary>The URL of the embedded asset <paramref name="name"/> (throws for an unknown name: a typo fails every page at once).</summary>
    public static string Url(string name) => Urls.Value[name];

    public static IEndpointRouteBuilder MapDashboardAssets(this IEndpointRouteBuilder app)
    {
        app.MapGet("/assets/{file}", (string file, HttpContext http) =>
            {
                if (!ByUrl.Value.TryGetValue(file, out var asset))
                {
                    return Results.NotFound();
                }

                http.Response.Headers.CacheControl = "public, max-age=31536000, immutable";
                http.Response.Headers.XContentTypeOptions = "nosniff";
                return Results.Bytes(asset.Bytes, asset.ContentType);
            })
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var name = resource[Prefix.Length..];
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..12];
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            var url = dot < 0 ? $"{name}-{hash}" : $"{name[..dot]}-{hash}{name[dot..]}";
            assets[url] = new Asset(name, bytes, ContentType(name));
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    };

    private sealed record Asset(string Name, byte[] Bytes, string ContentType);
}
