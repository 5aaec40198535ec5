using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>E-mail and chat channels and the routing rules (from the configuration), and a test message per channel.</summary>
public static class NotificationsApi
{
    public static RouteGroupBuilder MapNotificationsApi(this RouteGroupBuilder api)
    {
        var notifications = api.MapGroup("/notifications").WithTags("notifications");
        notifications.MapGet("", async (ListNotifications use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ListNotificationsRequest(), ct)))
            .WithName("ListNotifications").WithSummary("The e-mail and chat channels (never their passwords or webhook URLs) and the routing rules").RequireAuthorization(Permissions.Read);
        notifications.MapPost("/{name}/test", async (string name, TestNotification use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new TestNotificationRequest(name), ct)))
            .WithName("TestNotification").WithSummary("Send a test message to a channel now; the answer is the delivery with its attempt").RequireAuthorization(Permissions.Administer);
        return api;
    }
}
