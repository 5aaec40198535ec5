using System.Security.Claims;
using System.Text.Encodings.Web;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.UseCases.Tokens;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// <c>Authorization: Bearer lbt_…</c>: the token is looked up by its SHA-256 hash (the <c>AuthenticateToken</c> use
/// case); unknown, expired and revoked tokens fail alike. A token acts in its tenant only. No token: 401; a role
/// that may not do it: 403 — both as problem details.
/// </summary>
public sealed class TokenAuthentication : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public const string SchemeName = "Bearer";
    public const string TokenIdClaim = "lifeboat:token";
    public const string TenantClaim = "lifeboat:tenant";

    /// <summary>How the caller authenticated: <c>token</c> (a Lifeboat API token) or <c>oidc</c> (an identity provider's JWT).</summary>
    public const string KindClaim = "lifeboat:kind";

    public TokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : base(options, logger, encoder)
    {
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("the Authorization header is not a bearer token");
        }

        return await AuthenticateAsync(Context, header["Bearer ".Length..].Trim(), SchemeName, Logger);
    }

    /// <summary>
    /// A token as the API takes it — a Lifeboat API token, or an identity provider's JWT when Server:Jwt is set — turned
    /// into the caller's claims under <paramref name="scheme"/>. The dashboard's sign-in and its session cookie use this
    /// too, so a token means the same on every route.
    /// </summary>
    internal static async Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string bearer, string scheme, ILogger logger)
    {
        var workspace = context.RequestServices.GetRequiredService<CallContext>().Workspace;
        if (!bearer.StartsWith("lbt_", StringComparison.Ordinal) && workspace.Options.Server.Jwt is { } jwt)
        {
            return await AuthenticateJwtAsync(context, jwt, bearer, workspace, scheme, logger);
        }

        // In a scope of its own: the request's scope must not hold services made for the server's workspace when the
        // call then moves into the token's tenant (CallScope.UseCallTenant).
        TokenIdentity? identity;
        using (var scope = context.RequestServices.GetRequiredService<IServiceScopeFactory>().CreateScope())
        {
            scope.ServiceProvider.GetRequiredService<CallContext>().Workspace = workspace;
            identity = await scope.ServiceProvider.GetRequiredService<AuthenticateToken>().ExecuteAsync(new AuthenticateTokenRequest(bearer), context.RequestAborted);
        }

        if (identity is null)
        {
            return AuthenticateResult.Fail("the token is unknown, expired or revoked");
        }

        var claims = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, identity.Name), new Claim(ClaimTypes.Role, identity.Role), new Claim(TokenIdClaim, identity.Id), new Claim(TenantClaim, identity.Tenant), new Claim(KindClaim, "token")],
            scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(claims), scheme));
    }

    /// <summary>An identity provider's JWT (Server:Jwt): its role claim must be a Lifeboat role, its tenant this workspace's.</summary>
    private static async Task<AuthenticateResult> AuthenticateJwtAsync(HttpContext context, JwtOptions jwt, string token, Workspace workspace, string scheme, ILogger logger)
    {
        var (identity, refusal) = await context.RequestServices.GetRequiredService<JwtValidator>().ValidateAsync(jwt, token, Path.GetDirectoryName(workspace.ConfigPath)!, context.RequestAborted);
        if (identity is null)
        {
            logger.LogInformation("A JWT was refused: {Reason}", refusal);
            return AuthenticateResult.Fail("the token is not valid");
        }

        var tenant = identity.Tenant ?? Workspace.DefaultName;
        if (!Roles.All.Contains(identity.Role) || (tenant != Workspace.DefaultName && identity.Role == Roles.Superadmin))
        {
            logger.LogInformation("A JWT of {Name} was refused: role '{Role}' in tenant '{Tenant}'", identity.Name, identity.Role, tenant);
            return AuthenticateResult.Fail("the token's role or tenant is not one of this server's");
        }

        var claims = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, identity.Name), new Claim(ClaimTypes.Role, identity.Role), new Claim(TokenIdClaim, identity.TokenId), new Claim(TenantClaim, tenant), new Claim(KindClaim, "oidc")],
            scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(claims), scheme));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return WriteAsync(StatusCodes.Status401Unauthorized, "this endpoint needs an API token", "send `Authorization: Bearer lbt_…`; create a token with `lifeboat token create --name NAME --role ROLE`");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
        => WriteAsync(StatusCodes.Status403Forbidden, $"the token's role ({Context.User.FindFirstValue(ClaimTypes.Role)}) may not do this", "docs/api.md lists what each role may do; use a token with a role that may");

    private Task WriteAsync(int status, string detail, string hint)
    {
        Response.StatusCode = status;
        var problem = Problems.New(status, status == 401 ? ErrorCode.Usage : ErrorCode.Refused, detail, hint, CallScope.CorrelationId(Context));
        problem.Title = status == 401 ? "Unauthorized" : "Forbidden";
        problem.Type = status == 401 ? "urn:lifeboat:error:unauthorized" : "urn:lifeboat:error:forbidden";
        problem.Extensions["code"] = status == 401 ? "Unauthorized" : "Forbidden";
        return Context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem }).AsTask();
    }
}

/// <summary>One authorization policy per permission (<see cref="Permissions"/>): the token's role must hold it.</summary>
public static class PermissionPolicies
{
    public static AuthorizationBuilder AddPermissionPolicies(this AuthorizationBuilder builder)
    {
        foreach (var permission in Permissions.All)
        {
            builder.AddPolicy(permission, p => p
                .AddAuthenticationSchemes(TokenAuthentication.SchemeName)
                .RequireAuthenticatedUser()
                .RequireAssertion(c => c.User.FindFirstValue(ClaimTypes.Role) is { } role && Permissions.Allows(role, permission)));
        }

        return builder;
    }
}
