using System.Text.Json.Serialization;
using Lifeboat.Server.Apis;

namespace Lifeboat.Server;

/// <summary>The few shapes only the server has (liveness); everything else is the application layer's LifeboatJson.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Liveness))]
[JsonSerializable(typeof(DecisionBody))]
[JsonSerializable(typeof(TenantsApi.TenantChangeBody))]
[JsonSerializable(typeof(TenantsApi.TenantTokenBody))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
internal sealed partial class ServerJson : JsonSerializerContext;
