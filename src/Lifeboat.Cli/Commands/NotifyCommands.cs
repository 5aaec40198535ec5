using System.CommandLine;
using System.Globalization;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat notify test CHANNEL | list</c>: e-mail and chat channels and the routing rules.</summary>
internal static class NotifyCommands
{
    public static Command Create(CliApp app)
    {
        var notify = new Command("notify", "E-mail and chat alerts: channels and routing rules (Events:Channels, Events:Routes)");
        var channel = new Argument<string>("CHANNEL") { Description = "A channel of Events:Channels" };
        var json = RepoCommands.JsonOption();
        var test = new Command("test", "Send a test message to a channel now and show how it went") { channel, json };
        test.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var d = await call.Get<TestNotification>().ExecuteAsync(new TestNotificationRequest(parse.GetValue(channel)!), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(d, LifeboatJson.Default.DeliveryView);
            }
            else
            {
                var a = d.Log.LastOrDefault();
                call.Output.Line($"test of {d.Channel}: {d.State}" + (a is null ? "" : $" ({a.LatencyMs} ms{(a.Error is null ? "" : ": " + a.Error)})"));
            }

            return d.State == "delivered" ? 0 : 1;
        }, new Dictionary<string, string> { ["channel"] = "CHANNEL" }));
        notify.Subcommands.Add(test);

        var listJson = RepoCommands.JsonOption();
        var list = new Command("list", "List the channels and the routing rules") { listJson };
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(listJson), ct, async call =>
        {
            var view = await call.Get<ListNotifications>().ExecuteAsync(new ListNotificationsRequest(), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(view, LifeboatJson.Default.NotificationsView);
                return 0;
            }

            if (view.Channels.Count == 0)
            {
                call.Output.Line("no notification channels; configure them under Events:Channels (docs/configuration.md)");
                return 0;
            }

            call.Output.Table(["CHANNEL", "KIND", "TARGET", "TO"], view.Channels.Select(c => new[] { c.Name, c.Kind, c.Target, string.Join(", ", c.To) }));
            call.Output.Table(["EVENTS", "MIN SEVERITY", "SOURCES", "CHANNELS", "QUIET"], view.Routes.Select(r => new[]
            {
                string.Join(",", r.Events), r.MinSeverity, r.Sources.Count == 0 ? "any" : string.Join(",", r.Sources), string.Join(",", r.Channels), r.QuietPeriod.ToString("c", CultureInfo.InvariantCulture),
            }));
            return 0;
        }));
        notify.Subcommands.Add(list);
        return notify;
    }
}
