using Lifeboat.Core;

namespace Lifeboat.Cli;

/// <summary>What a command invocation sees of the world; tests pass their own to run commands in-process.</summary>
public sealed class CliEnvironment
{
    public required TextWriter Out { get; init; }

    public required TextWriter Error { get; init; }

    public required IReadOnlyDictionary<string, string?> Variables { get; init; }

    public required string WorkingDirectory { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Whether stderr is a terminal (progress bars, colours).</summary>
    public bool IsErrorTerminal { get; init; }

    /// <summary>Whether this invocation is the whole process (the real program), so it may change process-wide state such as its priority.</summary>
    public bool OwnsProcess { get; init; }

    /// <summary>Reads a secret from the terminal without echo; null when there is no terminal.</summary>
    public Func<string, Secret?>? Prompt { get; init; }

    public static CliEnvironment FromProcess()
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            variables[(string)e.Key] = e.Value as string;
        }

        var interactive = !Console.IsInputRedirected && !Console.IsErrorRedirected;
        return new CliEnvironment
        {
            Out = Console.Out,
            Error = Console.Error,
            Variables = variables,
            WorkingDirectory = Environment.CurrentDirectory,
            IsErrorTerminal = !Console.IsErrorRedirected && !variables.ContainsKey("CI"),
            OwnsProcess = true,
            Prompt = interactive ? ReadSecret : null,
        };
    }

    private static Secret? ReadSecret(string prompt)
    {
        Console.Error.Write(prompt);
        var chars = new List<char>();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (chars.Count > 0)
                {
                    chars.RemoveAt(chars.Count - 1);
                }

                continue;
            }

            if (!char.IsControl(key.KeyChar))
            {
                chars.Add(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return chars.Count == 0 ? null : new Secret(new string(chars.ToArray()));
    }
}
