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
        return await new CliApp(CliEnvironment.FromProcess()).RunAsync(args, cancel.Token);
    }
}
