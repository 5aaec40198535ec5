using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// How the server meets its clients: HTTPS with the configured certificate (Server:CertificatePath), and a rate limit
/// per client — a token, or the remote address without one — answering 429 problem details with Retry-After.
/// Health, readiness and metrics are not limited (monitoring must always get through).
/// </summary>
public static class Transport
{
    public static void UseLifeboatHttps(this IWebHostBuilder host, ServerOptions options, string configPath)
    {
        if (options.CertificatePath is null)
        {
            return;
        }

        var certificate = LoadCertificate(options, configPath);
        host.ConfigureKestrel(k => k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate));
    }

    public static IServiceCollection AddLifeboatRateLimits(this IServiceCollection services, ServerOptions options) => services.AddRateLimiter(o =>
    {
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            if (options.RequestsPerMinute == 0 || http.Request.Path.StartsWithSegments("/healthz") || http.Request.Path.StartsWithSegments("/readyz") || http.Request.Path.StartsWithSegments("/metrics"))
            {
                return RateLimitPartition.GetNoLimiter("unlimited");
            }

            var client = http.User.FindFirstValue(TokenAuthentication.TokenIdClaim) ?? "address:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions { PermitLimit = options.RequestsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
        });
        o.OnRejected = async (context, cancellationToken) =>
        {
            var http = context.HttpContext;
            var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (int)Math.Ceiling(after.TotalSeconds) : 60;
            http.Response.Headers.RetryAfter = retry.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var problem = Problems.New(StatusCodes.Status429TooManyRequests, ErrorCode.Refused, $"too many requests: this client may make {options.RequestsPerMinute} per minute", $"retry after {retry} s (Retry-After); Server:RequestsPerMinute sets the limit", CallScope.CorrelationId(http));
            problem.Title = "TooManyRequests";
            problem.Type = "urn:lifeboat:error:toomanyrequests";
            problem.Extensions["code"] = "TooManyRequests";
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
        };
    });

    private static X509Certificate2 LoadCertificate(ServerOptions options, string configPath)
    {
        var path = options.CertificatePath!;
        try
        {
            var password = options.CertificatePasswordFile is { } f ? File.ReadAllText(f).TrimEnd('\r', '\n') : null;
            if (path.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".crt", StringComparison.OrdinalIgnoreCase))
            {
                var key = options.CertificateKeyPath ?? path;
                return password is null ? X509Certificate2.CreateFromPemFile(path, key) : X509Certificate2.CreateFromEncryptedPemFile(path, password, key);
            }

            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new LifeboatException(ErrorCode.Config, $"cannot load the HTTPS certificate Server:CertificatePath ({path}) in {configPath}: {ex.Message}", "give a PKCS#12 file (.pfx, .p12, with Server:CertificatePasswordFile when it has a password) or a PEM certificate (.pem, .crt) with its key in Server:CertificateKeyPath");
        }
    }
}
