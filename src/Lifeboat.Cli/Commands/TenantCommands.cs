using System.CommandLine;
using System.Globalization;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Tenants;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat tenant add | list | show | suspend | resume | remove | quota</c>: the server's tenants (docs/tenants.md).</summary>
internal static class TenantCommands
{
    public static Command Create(CliApp app)
    {
        var tenant = new Command("tenant", "Tenants of the server: isolated workspaces with their own repository, key, quotas (run with the server's configuration)");
        tenant.Subcommands.Add(Add(app));
        tenant.Subcommands.Add(List(app));
        tenant.Subcommands.Add(Show(app));
        tenant.Subcommands.Add(Change(app, "suspend", "Suspend a tenant: its tokens read but write nothing, its schedules are skipped; WAL archiving goes on", (use, r, ct) => use.SuspendAsync(r, ct), reasonRequired: true));
        tenant.Subcommands.Add(Change(app, "resume", "Resume a suspended tenant, or keep one that is being removed", (use, r, ct) => use.ResumeAsync(r, ct), reasonRequired: false));
        tenant.Subcommands.Add(Change(app, "remove", "Remove a tenant (needs approval when approvals are on): tokens revoked now, data deleted after Tenants:RemovalGrace", (use, r, ct) => use.RemoveAsync(r, ct), reasonRequired: false));
        tenant.Subcommands.Add(Quota(app));
        return tenant;
    }

    private static Command Add(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "The tenant's name: lower-case letters, digits and '-'" };
        var display = new Option<string?>("--display-name") { Description = "A name for people (default: NAME)", HelpName = "TEXT" };
        var repo = new Option<string?>("--repo") { Description = "Its repository (default: a local one in its directory)", HelpName = "URL" };
        var stored = new Option<string?>("--quota-stored") { Description = "Stored-bytes quota: 500GiB (default: none)", HelpName = "SIZE" };
        var sources = new Option<long?>("--quota-sources") { Description = "At most this many sources", HelpName = "N" };
        var jobs = new Option<long?>("--quota-jobs") { Description = "At most this many jobs at once", HelpName = "N" };
        var json = RepoCommands.JsonOption();
        var command = new Command("add", "Add a tenant: its directory, configuration, key file and repository with its own master key") { name, display, repo, stored, sources, jobs, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var added = await call.Get<TenantAdmin>().AddAsync(new AddTenantRequest(parse.GetValue(name)!, parse.GetValue(display), parse.GetValue(repo), parse.GetValue(stored), parse.GetValue(sources), parse.GetValue(jobs)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(added, LifeboatJson.Default.AddedTenant);
                return 0;
            }

            call.Output.Line($"added tenant {added.Tenant.Name}: {added.Tenant.Directory}");
            call.Output.Line($"repository {added.Repository}");
            call.Output.Note($"its key file is {added.KeyFile}: keep a copy off this machine (it alone opens the tenant's repository)");
            call.Output.Note($"next: `lifeboat --tenant {added.Tenant.Name} token create --name NAME --role admin` for its administrator, and its sources with `lifeboat --tenant {added.Tenant.Name} source add-…`");
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME" }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var search = new Option<string?>("--search") { Description = "A part of the name or display name", HelpName = "TEXT" };
        var state = new Option<string?>("--state") { Description = "active, suspended or removing", HelpName = "STATE" };
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the tenants") { search, state, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<TenantAdmin>().ListAsync(new ListTenantsRequest(parse.GetValue(search), parse.GetValue(state)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.TenantList);
                return 0;
            }

            if (result.Items.Count == 0)
            {
                call.Output.Line("no tenants; add one with `lifeboat tenant add NAME`");
                return 0;
            }

            call.Output.Table(["NAME", "DISPLAY NAME", "STATE", "SINCE", "QUOTA STORED", "QUOTA SOURCES", "QUOTA JOBS"], result.Items.Select(t => new[]
            {
                t.Name, t.DisplayName, t.State, CliOutput.Time(t.StateChanged),
                t.Quotas.StoredBytes is { } b ? ByteSize.Format(b) : "-",
                t.Quotas.Sources?.ToString(CultureInfo.InvariantCulture) ?? "-",
                t.Quotas.Jobs?.ToString(CultureInfo.InvariantCulture) ?? "-",
            }));
            return 0;
        }));
        return command;
    }

    private static Command Show(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "The tenant" };
        var json = RepoCommands.JsonOption();
        var command = new Command("show", "One tenant: state, quotas and usage (stored and logical bytes, dedup, sources, backups, last backup and drill, API calls)") { name, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var t = await call.Get<TenantAdmin>().ShowAsync(new TenantRequest(parse.GetValue(name)!), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(t, LifeboatJson.Default.TenantView);
                return 0;
            }

            Write(call.Output, t);
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME" }));
        return command;
    }

    private static Command Change(CliApp app, string verb, string description, Func<TenantAdmin, ChangeTenantRequest, CancellationToken, Task<TenantView>> change, bool reasonRequired)
    {
        var name = new Argument<string>("NAME") { Description = "The tenant" };
        var reason = new Option<string?>("--reason") { Description = reasonRequired ? "Why (shown in every refusal its tokens get)" : "Why", Required = reasonRequired, HelpName = "TEXT" };
        var json = RepoCommands.JsonOption();
        var command = new Command(verb, description) { name, reason, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var t = await change(call.Get<TenantAdmin>(), new ChangeTenantRequest(parse.GetValue(name)!, parse.GetValue(reason)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(t, LifeboatJson.Default.TenantView);
                return 0;
            }

            call.Output.Line($"tenant {t.Name} is {t.State}" + (t.RemoveAfter is { } r ? $": its data is deleted after {CliOutput.Time(r)} unless it is resumed" : ""));
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME" }));
        return command;
    }

    private static Command Quota(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "The tenant" };
        var stored = new Option<string?>("--stored") { Description = "Stored-bytes quota (500GiB; none: no quota)", HelpName = "SIZE" };
        var sources = new Option<string?>("--sources") { Description = "At most this many sources (none: no quota)", HelpName = "N" };
        var jobs = new Option<string?>("--jobs") { Description = "At most this many jobs at once (none: no quota)", HelpName = "N" };
        var json = RepoCommands.JsonOption();
        var command = new Command("quota", "Change a tenant's quotas (the others stay)") { name, stored, sources, jobs, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var (s, clearS) = Count(parse.GetValue(sources), "--sources");
            var (j, clearJ) = Count(parse.GetValue(jobs), "--jobs");
            var t = await call.Get<TenantAdmin>().SetQuotasAsync(new SetTenantQuotasRequest(parse.GetValue(name)!, parse.GetValue(stored), s, j, clearS, clearJ), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(t, LifeboatJson.Default.TenantView);
                return 0;
            }

            Write(call.Output, t);
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME" }));
        return command;
    }

    private static (long? Value, bool Clear) Count(string? text, string flag)
    {
        if (text is null)
        {
            return (null, false);
        }

        if (text == "none")
        {
            return (null, true);
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? (n, false)
            : throw new LifeboatException(ErrorCode.Usage, $"{flag} '{text}' is not a positive number", "give 1 or more, or none to remove the quota");
    }

    private static void Write(CliOutput output, TenantView t)
    {
        output.Line($"tenant:        {t.Name} ({t.DisplayName})");
        output.Line($"state:         {t.State} since {CliOutput.Time(t.StateChanged)}" + (t.StateReason is { } r ? $" ({r})" : "") + (t.RemoveAfter is { } ra ? $", data deleted after {CliOutput.Time(ra)}" : ""));
        output.Line($"directory:     {t.Directory}");
        output.Line($"quotas:        stored {(t.Quotas.StoredBytes is { } b ? ByteSize.Format(b) : "none")}, sources {t.Quotas.Sources?.ToString(CultureInfo.InvariantCulture) ?? "none"}, jobs {t.Quotas.Jobs?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        if (t.Usage is { } u)
        {
            output.Line($"stored:        {ByteSize.Format(u.StoredBytes)} (after dedup and compression)");
            output.Line($"protected:     {ByteSize.Format(u.LogicalBytes)}" + (u.DedupRatio is { } d ? $" ({d.ToString("0.##", CultureInfo.InvariantCulture)}:1)" : ""));
            output.Line($"sources:       {u.Sources}");
            output.Line($"backups:       {u.Backups}" + (u.LastBackup is { } lb ? $", last {CliOutput.Time(lb)}" : ""));
            output.Line($"last drill:    {(u.LastDrill is { } ld ? CliOutput.Time(ld) + " " + u.LastDrillResult : "never")}");
            output.Line($"API calls:     {u.ApiCalls30d} in 30 days");
        }
    }
}
