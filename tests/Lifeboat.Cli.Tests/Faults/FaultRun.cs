using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lifeboat.Targets.Local;

namespace Lifeboat.Cli.Tests.Faults;

/// <summary>How one trial interrupts the real program: kill -9 after a delay, or the fault hook's kill before the n-th call.</summary>
internal abstract record KillPlan
{
    public sealed record After(int Milliseconds) : KillPlan
    {
        public override string ToString() => $"kill -9 after {Milliseconds} ms";
    }

    /// <summary><see cref="FaultHook"/>: the process kills itself before its <see cref="N"/>-th <see cref="Operation"/>.</summary>
    public sealed record Before(string Operation, int N) : KillPlan
    {
        public override string ToString() => $"kill -9 before {Operation} #{N}";
    }
}

/// <summary>What became of an interrupted run.</summary>
internal sealed record KillOutcome(bool Killed, int ExitCode, string Error, TimeSpan Elapsed);

/// <summary>
/// The settings and the tally of a fault run (issue 19, docs/reliability.md). Quick by default (a few seeded trials per
/// operation, part of ./test.sh); <c>LIFEBOAT_FAULTS_TRIALS=N</c> runs N random-delay trials per operation and every
/// deterministic kill point (at most <c>LIFEBOAT_FAULTS_MAX_POINTS</c> per kind of call, default 40); <c>LIFEBOAT_FAULTS_SEED=S</c> replays a run; <c>LIFEBOAT_FAULTS_REPORT=FILE</c> appends one JSON
/// line per trial (operation, plan, outcome, passed) for the totals in docs/reliability.md.
/// </summary>
internal sealed class FaultRun
{
    public const string TrialsVariable = "LIFEBOAT_FAULTS_TRIALS";
    public const string SeedVariable = "LIFEBOAT_FAULTS_SEED";
    public const string ReportVariable = "LIFEBOAT_FAULTS_REPORT";
    public const string MaxPointsVariable = "LIFEBOAT_FAULTS_MAX_POINTS";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly Dictionary<string, TimeSpan> _durations = new(StringComparer.Ordinal);

    public FaultRun(string scenario, int quickTrials)
    {
        Scenario = scenario;
        var trials = Environment.GetEnvironmentVariable(TrialsVariable);
        Long = int.TryParse(trials, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0;
        Trials = Long ? n : quickTrials;
        var seed = Environment.GetEnvironmentVariable(SeedVariable);
        // Quick runs are reproducible by default; long runs explore a new seed each time unless one is given.
        Seed = int.TryParse(seed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) ? s
            : Long ? Random.Shared.Next() : 19;
        Random = new Random(Seed ^ scenario.Aggregate(17, (h, c) => unchecked((h * 31) + c))); // stable across processes, one stream per scenario
        TestContext.Current.TestOutputHelper?.WriteLine($"fault run {scenario}: seed {Seed} ({SeedVariable}), {Trials} random trial(s) per operation, {(Long ? "long" : "quick")}");
    }

    public string Scenario { get; }

    public bool Long { get; }

    public int Trials { get; }

    public int Seed { get; }

    public Random Random { get; }

    public int Passed { get; private set; }

    /// <summary>Prefix of every assertion message: enough to replay the failing trial.</summary>
    public string Where(string operation, KillPlan plan) => $"[{Scenario}, seed {Seed} ({SeedVariable}={Seed}), {operation}, {plan}]";

    /// <summary>A random delay within about the time the operation takes here (measured from its last uninterrupted run).</summary>
    public KillPlan RandomDelay(string operation)
    {
        var typical = Typical(operation);
        // The process needs about 200 ms before it touches the repository; kill anywhere from there to a bit past the end.
        return new KillPlan.After(150 + Random.Next((int)Math.Max(300, typical.TotalMilliseconds * 1.1)));
    }

    private TimeSpan Typical(string operation) => _durations.TryGetValue(operation, out var d) ? d : TimeSpan.FromSeconds(2);

    /// <summary>Runs `lifeboat` in its own process and interrupts it as planned; a run that finishes first is reported as such.</summary>
    public async Task<KillOutcome> RunAsync(string operation, KillPlan plan, string workingDirectory, IDictionary<string, string?> environment, params string[] args)
    {
        var env = new Dictionary<string, string?>(environment) { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
        if (plan is KillPlan.Before before)
        {
            env[FaultHook.Variable] = $"{before.Operation}:{before.N.ToString(CultureInfo.InvariantCulture)}";
        }

        var ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(LifeboatProcess.StartInfo(workingDirectory, env, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        if (plan is KillPlan.After after)
        {
            try
            {
                await process.WaitForExitAsync(CancellationTokenSource.CreateLinkedTokenSource(ct, new CancellationTokenSource(after.Milliseconds).Token).Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(); // SIGKILL
            }
        }

        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token).Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Where(operation, plan)}: lifeboat {string.Join(' ', args)} did not finish within {Timeout}");
        }

        clock.Stop();
        var error = await stderr;
        _ = await stdout;
        // 137: killed by signal 9 (ours or the hook's). A run that exited by itself just before our kill counts as completed.
        var killed = process.ExitCode == 137;
        if (!killed)
        {
            Assert.True(process.ExitCode == 0, $"{Where(operation, plan)}: lifeboat {string.Join(' ', args)} was not interrupted and failed: exit {process.ExitCode}\n{error}");
            _durations[operation] = clock.Elapsed;
        }
        else if (plan is KillPlan.After && Typical(operation) < clock.Elapsed * 1.2)
        {
            // Killed near the end of the range: the operation takes longer here than assumed; widen the range for the next
            // trials (until one completes and gives the real duration).
            _durations[operation] = clock.Elapsed * 1.5;
        }

        return new KillOutcome(killed, process.ExitCode, error, clock.Elapsed);
    }

    /// <summary>
    /// The trials of one operation: <see cref="Trials"/> random delays, then deterministic kills — in a long run before
    /// every rename, unlink and fsync in turn (n = 1, 2, … until the operation completes, at most <paramref name="maxPoints"/>
    /// each), in a quick run at <paramref name="quick"/>'s points (an n of 0 stands for a seeded random one from 2 to 9).
    /// Each trial: <paramref name="prepare"/>, the interrupted run, then <paramref name="check"/> (given the message prefix).
    /// </summary>
    public async Task TrialsAsync(
        string operation,
        Func<Task> prepare,
        Func<KillPlan, Task<KillOutcome>> interrupt,
        Func<string, KillOutcome, Task> check,
        (string Operation, int N)[] quick,
        int maxPoints = 40,
        int? quickRandomTrials = null)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(MaxPointsVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var cap) && cap > 0)
        {
            maxPoints = Math.Min(maxPoints, cap);
        }

        async Task<KillOutcome> One(KillPlan plan)
        {
            await prepare();
            var outcome = await interrupt(plan);
            await check(Where(operation, plan) + (outcome.Killed ? " killed" : " completed before the kill"), outcome);
            Pass(operation, plan, outcome);
            return outcome;
        }

        for (var i = 0; i < (Long ? Trials : quickRandomTrials ?? Trials); i++)
        {
            await One(RandomDelay(operation));
        }

        if (Long)
        {
            foreach (var kind in new[] { "rename", "unlink", "fsync" })
            {
                for (var n = 1; n <= maxPoints; n++)
                {
                    if (!(await One(new KillPlan.Before(kind, n))).Killed)
                    {
                        break;
                    }
                }
            }

            return;
        }

        foreach (var (kind, n) in quick)
        {
            await One(new KillPlan.Before(kind, n > 0 ? n : 2 + Random.Next(8)));
        }
    }

    /// <summary>Counts a trial whose checks all passed, and reports it.</summary>
    public void Pass(string operation, KillPlan plan, KillOutcome outcome)
    {
        Passed++;
        var line = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["date"] = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["scenario"] = Scenario,
            ["seed"] = Seed,
            ["operation"] = operation,
            ["plan"] = plan.ToString(),
            ["killed"] = outcome.Killed,
            ["passed"] = true,
        });
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } report)
        {
            lock (typeof(FaultRun))
            {
                File.AppendAllText(report, line + "\n");
            }
        }
    }
}
