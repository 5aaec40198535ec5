using System.Buffers.Text;
using System.Security.Cryptography;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Tokens;

/// <summary>
/// `token create`: a new API token (<c>lbt_</c> + 32 random bytes, base64url) whose secret is returned this once; the
/// catalog keeps only its SHA-256. Audited (<c>token.create</c>) and published (<c>token.created</c>), without the secret.
/// </summary>
public sealed class CreateToken : IUseCase<CreateTokenRequest, CreatedToken>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly AuditTrail _audit;
    private readonly Events _events;
    private readonly TimeProvider _time;
    private readonly IApprovalGate _gate;

    public CreateToken(CallContext call, CatalogAccess catalog, AuditTrail audit, Events events, TimeProvider time, IApprovalGate gate)
    {
        _gate = gate;
        _call = call;
        _catalog = catalog;
        _audit = audit;
        _events = events;
        _time = time;
    }

    public async Task<CreatedToken> ExecuteAsync(CreateTokenRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            throw new LifeboatException(ErrorCode.Usage, "«name» is empty", "name the token after who or what uses it (ci, grafana, alice)");
        }

        if (!Roles.IsKnown(request.Role))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«role» '{request.Role}' is not a role", $"the roles are: {string.Join(", ", Roles.All)}");
        }

        TimeSpan? lifetime = null;
        if (request.Expires is { } expires)
        {
            lifetime = Duration.Parse(expires, FieldText.Ref("expires"));
            if (lifetime <= TimeSpan.Zero)
            {
                throw new LifeboatException(ErrorCode.Usage, $"«expires» '{expires}' would expire the token at once", "give a positive duration (90d, 12h), or leave it out for a token that lives until revoked");
            }
        }

        var workspace = _call.Workspace;
        var tenant = string.IsNullOrWhiteSpace(request.Tenant) ? workspace.Name : request.Tenant;
        TokenRules.RequireTenant(_call.Actor, workspace, tenant);
        TokenRules.RequireGrantable(_call.Actor, request.Role);

        var catalog = await TokenRules.CatalogOfAsync(await _catalog.OpenAsync(cancellationToken), tenant, request.Role, cancellationToken);
        var name = request.Name.Trim();
        var policies = await catalog.ApprovalPoliciesAsync(tenant, cancellationToken);
        if (policies.Any(p => UseCases.Approvals.ApprovalRules.Qualifies(name, request.Role, p.Role, p.Users)))
        {
            // A token that may approve is a second person: with approvals on, one admin must not mint it alone.
            await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.CreateToken, null, $"create the token '{name}' with the role {request.Role} in tenant {tenant}: it may approve", new Dictionary<string, string?>
            {
                ["name"] = name,
                ["role"] = request.Role,
                ["tenant"] = tenant,
                ["expires"] = request.Expires,
            }), cancellationToken);
        }

        var token = TokenRules.Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = _time.GetUtcNow();
        var record = new TokenRecord
        {
            Id = "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Name = name,
            Role = request.Role,
            Tenant = tenant,
            Hash = TokenRules.Hash(token),
            Created = now,
            CreatedBy = TokenRules.CreatedBy(_call.Actor),
            Expires = lifetime is { } l ? now + l : null,
        };
        // A token made in another tenant (by the host or a superadmin) is that tenant's event and audit entry; the
        // caller's trail says only that one was made there.
        await _events.PublishWithAsync(new TokenCreated(record.Id, record.Name, record.Role, record.Tenant, record.Expires), tenant, events => catalog.InsertTokenAsync(record, events, cancellationToken));
        var entry = new AuditEntry(AuditActions.TokenCreate, record.Id, new Dictionary<string, string?>
        {
            ["name"] = record.Name,
            ["role"] = record.Role,
            ["tenant"] = record.Tenant,
            ["expires"] = request.Expires,
        }, AuditResults.Succeeded, 201);
        await _audit.RecordAsync(entry, tenant, true, cancellationToken);
        if (tenant != workspace.Name)
        {
            await _audit.RecordAsync(TokenRules.InAnotherTenant(entry, tenant), true, cancellationToken);
        }

        return new CreatedToken(record.Id, record.Name, record.Role, record.Tenant, record.Created, record.Expires, token);
    }
}
