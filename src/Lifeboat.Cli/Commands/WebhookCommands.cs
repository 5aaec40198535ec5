using System.CommandLine;
using System.Globalization;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat webhook …</c>: Standard Webhooks endpoints, their delivery log, dead letters, test, redeliver, replay.</summary>
internal static class WebhookCommands
{
    public static Command Create(CliApp app)
    {
        var webhook = new Command("webhook", "Webhook endpoints that receive events (Standard Webhooks signatures); `serve` delivers them");
        webhook.Subcommands.Add(Add(app));
        webhook.Subcommands.Add(List(app));
        webhook.Subcommands.Add(Update(app));
        webhook.Subcommands.Add(ById(app, "remove", "Remove an endpoint (what was still to be delivered to it is cancelled)", async (call, id, ct) =>
        {
            var removed = await call.Get<RemoveWebhook>().ExecuteAsync(new WebhookIdRequest(id), ct);
            return (removed, LifeboatJson.Default.RemovedWebhook, $"removed webhook {removed.Id} ({removed.Url})");
        }));
        webhook.Subcommands.Add(RotateSecret(app));
        webhook.Subcommands.Add(ById(app, "test", "Send a webhook.test event to the endpoint now and show how it answered", async (call, id, ct) =>
        {
            var d = await call.Get<TestWebhook>().ExecuteAsync(new WebhookIdRequest(id), ct);
            var a = d.Log.LastOrDefault();
            return (d, LifeboatJson.Default.DeliveryView, $"test of webhook {id}: {d.State}" + (a is null ? "" : $" (HTTP {(a.Status?.ToString(CultureInfo.InvariantCulture) ?? "-")}, {a.LatencyMs} ms{(a.Error is null ? "" : ": " + a.Error)})"));
        }, exitOnFailure: d => d.State == "delivered" ? 0 : 1));
        webhook.Subcommands.Add(Deliveries(app));
        webhook.Subcommands.Add(ById(app, "redeliver", "Deliver the event of a delivery to its channel again (a new delivery)", async (call, id, ct) =>
        {
            var d = await call.Get<Redeliver>().ExecuteAsync(new WebhookIdRequest(id), ct);
            return (d, LifeboatJson.Default.DeliveryView, $"delivery {d.Id} queued: event {d.EventId} to {d.Channel} (`serve` delivers it)");
        }, argument: "DELIVERY_ID"));
        webhook.Subcommands.Add(Replay(app));
        return webhook;
    }

    private static Command Add(CliApp app)
    {
        var url = new Argument<string>("URL") { Description = "Where events are POSTed (http:// or https://)" };
        var events = new Option<string?>("--events") { Description = "Event types or patterns it receives, comma-separated (default: *)", HelpName = "PATTERNS" };
        var secret = new Option<string?>("--secret") { Description = "A whsec_ signing secret (default: generated, printed once)", HelpName = "SECRET" };
        var description = new Option<string?>("--description") { Description = "What it is for", HelpName = "TEXT" };
        var json = RepoCommands.JsonOption();
        var command = new Command("add", "Add a webhook endpoint and print its signing secret, this once") { url, events, secret, description, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var created = await call.Get<AddWebhook>().ExecuteAsync(new AddWebhookRequest(parse.GetValue(url)!, Patterns(parse.GetValue(events)), parse.GetValue(secret), parse.GetValue(description)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(created, LifeboatJson.Default.CreatedWebhook);
            }
            else
            {
                call.Output.Line(created.Secret);
            }

            call.Output.Note($"webhook {created.Id} → {created.Url} ({string.Join(", ", created.Events)}): the secret above is shown this once; give it to the receiver to verify signatures");
            return 0;
        }, new Dictionary<string, string> { ["url"] = "URL" }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the webhook endpoints") { json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListWebhooks>().ExecuteAsync(new ListWebhooksRequest(), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.PageWebhookView);
                return 0;
            }

            if (result.Items.Count == 0)
            {
                call.Output.Line("no webhooks; add one with `lifeboat webhook add URL --events backup.*`");
                return 0;
            }

            call.Output.Table(["ID", "URL", "EVENTS", "STATE", "SECRETS"], result.Items.Select(w => new[]
            {
                w.Id, w.Url, string.Join(",", w.Events), w.Enabled ? "enabled" : "disabled: " + w.DisabledReason,
                w.PreviousSecretExpires is { } e ? $"{w.Secrets} (rotation until {CliOutput.Time(e)})" : w.Secrets.ToString(CultureInfo.InvariantCulture),
            }));
            return 0;
        }));
        return command;
    }

    private static Command Update(CliApp app)
    {
        var id = new Argument<string>("ID") { Description = "The webhook's id (wh_…)" };
        var url = new Option<string?>("--url") { Description = "A new URL", HelpName = "URL" };
        var events = new Option<string?>("--events") { Description = "New event patterns, comma-separated", HelpName = "PATTERNS" };
        var description = new Option<string?>("--description") { Description = "A new description", HelpName = "TEXT" };
        var enable = new Option<bool>("--enable") { Description = "Enable it again (after a 410 Gone disabled it)" };
        var disable = new Option<bool>("--disable") { Description = "Stop delivering to it" };
        var json = RepoCommands.JsonOption();
        var command = new Command("update", "Change a webhook endpoint") { id, url, events, description, enable, disable, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            bool? enabled = parse.GetValue(enable) ? true : parse.GetValue(disable) ? false : null;
            var view = await call.Get<UpdateWebhook>().ExecuteAsync(new UpdateWebhookRequest(parse.GetValue(id)!, parse.GetValue(url), Patterns(parse.GetValue(events)), parse.GetValue(description), enabled), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(view, LifeboatJson.Default.WebhookView);
            }
            else
            {
                call.Output.Line($"webhook {view.Id} → {view.Url} ({string.Join(", ", view.Events)}), {(view.Enabled ? "enabled" : "disabled")}");
            }

            return 0;
        }, new Dictionary<string, string> { ["id"] = "ID" }));
        return command;
    }

    private static Command RotateSecret(CliApp app)
    {
        var id = new Argument<string>("ID") { Description = "The webhook's id (wh_…)" };
        var secret = new Option<string?>("--secret") { Description = "The new whsec_ secret (default: generated)", HelpName = "SECRET" };
        var overlap = new Option<string?>("--overlap") { Description = "How long the previous secret keeps signing too (default 24h; 0: stop at once)", HelpName = "DURATION" };
        var json = RepoCommands.JsonOption();
        var command = new Command("rotate-secret", "Give the endpoint a new signing secret (printed once); both sign during the overlap") { id, secret, overlap, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var rotated = await call.Get<RotateWebhookSecret>().ExecuteAsync(new RotateWebhookSecretRequest(parse.GetValue(id)!, parse.GetValue(secret), parse.GetValue(overlap)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(rotated, LifeboatJson.Default.RotatedWebhookSecret);
            }
            else
            {
                call.Output.Line(rotated.Secret);
            }

            call.Output.Note(rotated.PreviousSecretExpires is { } e
                ? $"webhook {rotated.Id}: the previous secret signs too until {CliOutput.Time(e)}; switch the receiver to the new one before then"
                : $"webhook {rotated.Id}: only the new secret signs from now on");
            return 0;
        }, new Dictionary<string, string> { ["id"] = "ID" }));
        return command;
    }

    private static Command Deliveries(CliApp app)
    {
        var id = new Argument<string?>("ID") { Description = "Only this webhook's deliveries", Arity = ArgumentArity.ZeroOrOne };
        var state = new Option<string?>("--state") { Description = "pending, delivered, dead (the dead-letter list) or cancelled", HelpName = "STATE" };
        var eventId = new Option<string?>("--event") { Description = "Only the deliveries of this event", HelpName = "EVENT_ID" };
        var limit = new Option<int>("--limit") { Description = "At most this many (1-200)", DefaultValueFactory = _ => 50, HelpName = "N" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page: the `next` of a previous --json answer", HelpName = "CURSOR" };
        var json = RepoCommands.JsonOption();
        var command = new Command("deliveries", "The delivery log, newest first, with every attempt; --state dead lists the dead letters") { id, state, eventId, limit, cursor, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListDeliveries>().ExecuteAsync(new ListDeliveriesRequest(parse.GetValue(id), null, parse.GetValue(state), parse.GetValue(eventId), parse.GetValue(limit), parse.GetValue(cursor)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.PageDeliveryView);
                return 0;
            }

            if (result.Items.Count == 0)
            {
                call.Output.Line("no deliveries match");
                return 0;
            }

            call.Output.Table(["ID", "CHANNEL", "EVENT", "STATE", "ATTEMPTS", "LAST", "NEXT"], result.Items.Select(d => new[]
            {
                d.Id, d.Channel, d.EventType ?? d.EventId, d.State, d.Attempts.ToString(CultureInfo.InvariantCulture),
                d.LastStatus is { } s ? s.ToString(CultureInfo.InvariantCulture) : d.LastError ?? "",
                d.NextAttempt is { } n ? CliOutput.Time(n) : "",
            }));
            return 0;
        }, new Dictionary<string, string> { ["webhook"] = "ID" }));
        return command;
    }

    private static Command Replay(CliApp app)
    {
        var id = new Argument<string>("ID") { Description = "The webhook's id (wh_…)" };
        var since = new Option<string?>("--since") { Description = "Events at or after this time, or this long ago (24h)", HelpName = "TIME" };
        var until = new Option<string?>("--until") { Description = "Events before this time", HelpName = "TIME" };
        var correlation = new Option<string?>("--correlation") { Description = "The events of one call or run", HelpName = "ID" };
        var type = new Option<string?>("--type") { Description = "Only these types or patterns", HelpName = "T" };
        var json = RepoCommands.JsonOption();
        var command = new Command("replay", "Deliver again the events of a time window, or of one correlation id, to this endpoint") { id, since, until, correlation, type, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ReplayWebhook>().ExecuteAsync(new ReplayWebhookRequest(parse.GetValue(id)!, parse.GetValue(since), parse.GetValue(until), parse.GetValue(correlation), parse.GetValue(type)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.ReplayResult);
            }
            else
            {
                call.Output.Line($"replay to webhook {result.Webhook}: {result.Deliveries} event(s) queued{(result.Truncated ? " (the first 10,000; narrow the window for the rest)" : "")}; `serve` delivers them");
            }

            return 0;
        }, new Dictionary<string, string> { ["id"] = "ID" }));
        return command;
    }

    private static Command ById<T>(CliApp app, string name, string description, Func<CliCall, string, CancellationToken, Task<(T Result, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> Info, string Text)>> run, Func<T, int>? exitOnFailure = null, string argument = "ID")
    {
        var id = new Argument<string>(argument) { Description = argument == "ID" ? "The webhook's id (wh_…)" : "The delivery's id (dlv_…)" };
        var json = RepoCommands.JsonOption();
        var command = new Command(name, description) { id, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var (result, info, text) = await run(call, parse.GetValue(id)!, ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, info);
            }
            else
            {
                call.Output.Line(text);
            }

            return exitOnFailure?.Invoke(result) ?? 0;
        }, new Dictionary<string, string> { ["id"] = argument }));
        return command;
    }

    private static IReadOnlyList<string>? Patterns(string? text) => text is null ? null : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
