namespace Lifeboat.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Not disposed: the handlers below may run while the process exits.
        var cancel = new CancellationTokenSource();
        // First Ctrl-C: cancel cleanly (the repository stays consistent). Second: let the runtime stop the process.
        Console.CancelKeyPress += (_, e) =>
        {
            if (!cancel.IsCancellationRequested)
            {
                e.Cancel = true;
                Console.Error.WriteLine("lifeboat: stopping (press Ctrl-C again to stop at once)");
                cancel.Cancel();
            }
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cancel.Cancel();
        // SIGTERM (systemd stopping a unit, kill): cancel cleanly as for Ctrl-C, so that a drill stops its scratch server
        // and removes its scratch directory, instead of the runtime exiting under it.
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancel.Cancel();
        });
        return await new CliApp(CliEnvironment.FromProcess()).RunAsync(args, cancel.Token);
    }
}
