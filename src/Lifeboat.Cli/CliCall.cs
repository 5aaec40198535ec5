using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Cli;

/// <summary>
/// One command's call of the application layer: the use cases (resolved from the call's scope), its workspace, and
/// where the command writes. A command body is: parse → <see cref="Get{T}"/>().ExecuteAsync → render.
/// </summary>
internal sealed class CliCall
{
    private readonly IServiceProvider _services;
    private readonly CliEnvironment _env;

    public CliCall(IServiceProvider services, CallContext context, CliOutput output, CliEnvironment environment)
    {
        _services = services;
        Context = context;
        Output = output;
        _env = environment;
    }

    public CallContext Context { get; }

    public Workspace Workspace => Context.Workspace;

    public CliOutput Output { get; }

    public TimeProvider Time => _env.Time;

    /// <summary>Whether this invocation is the whole process (it may lower its own priority).</summary>
    public bool OwnsProcess => _env.OwnsProcess;

    /// <summary>A use case (or another service of the call).</summary>
    public T Get<T>()
        where T : notnull => _services.GetRequiredService<T>();

    /// <summary>
    /// Shows the call's progress on stderr until disposed: a bar (when stderr is a terminal) for counters, and one line
    /// per step (<see cref="ProgressUpdate.Step"/>), with the time since the start, always.
    /// </summary>
    public IDisposable ShowProgress(string label)
    {
        var display = new ProgressDisplay(Output.Progress(label), Output, _env.Time);
        Context.Progress = display;
        return new Restore(() =>
        {
            Context.Progress = null;
            display.Dispose();
        });
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>Synchronous (unlike <see cref="Progress{T}"/>): step lines come out in order, before the result.</summary>
    private sealed class ProgressDisplay(ProgressLine bar, CliOutput output, TimeProvider time) : IProgress<ProgressUpdate>, IDisposable
    {
        private readonly long _started = time.GetTimestamp();

        public void Report(ProgressUpdate value)
        {
            if (value.Step)
            {
                bar.Dispose();
                output.Note($"{value.Phase} [{time.GetElapsedTime(_started).TotalSeconds,5:0.0}s] {value.Detail}");
                return;
            }

            if (value.TotalBytes is { } total)
            {
                bar.Total = total;
            }

            bar.Update(value.Bytes, value.Detail ?? value.Phase);
        }

        public void Dispose() => bar.Dispose();
    }
}
