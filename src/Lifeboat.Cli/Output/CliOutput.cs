using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Lifeboat.Core;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Lifeboat.Cli.Output;

/// <summary>
/// Where a command writes: text for people (tables via Spectre.Console) or, with --json, exactly one JSON document on
/// stdout. Warnings and progress go to stderr.
/// </summary>
public sealed class CliOutput
{
    private readonly CliEnvironment _env;
    private readonly IAnsiConsole _console;

    public CliOutput(CliEnvironment environment, bool json)
    {
        _env = environment;
        Json = json;
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(environment.Out),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        _console.Profile.Width = 160;
    }

    public bool Json { get; }

    public TextWriter Out => _env.Out;

    public TextWriter Error => _env.Error;

    /// <summary>A line for people; suppressed in JSON mode.</summary>
    public void Line(string text = "")
    {
        if (!Json)
        {
            _env.Out.WriteLine(text);
        }
    }

    /// <summary>A warning on stderr (also in JSON mode: stdout stays one document).</summary>
    public void Warn(string text) => _env.Error.WriteLine("lifeboat: warning: " + text);

    public void Note(string text) => _env.Error.WriteLine(text);

    /// <summary>The one JSON document of a --json command: a result record of the application layer.</summary>
    public void WriteJson<T>(T value, JsonTypeInfo<T> type)
    {
        _env.Out.WriteLine(JsonSerializer.Serialize(value, type));
    }

    public void Table(IEnumerable<string> headers, IEnumerable<IEnumerable<string>> rows)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (var h in headers)
        {
            table.AddColumn(new TableColumn(Markup.Escape(h)));
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(c => (IRenderable)new Text(c)).ToArray());
        }

        _console.Write(table);
    }

    public ProgressLine Progress(string label, long? total = null)
        => new(_env.Error, enabled: _env.IsErrorTerminal, label, total, _env.Time);

    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan d) => d.TotalSeconds < 60 ? $"{d.TotalSeconds:0.0}s" : d.TotalHours < 1 ? $"{(int)d.TotalMinutes}m{d.Seconds:00}s" : $"{(int)d.TotalHours}h{d.Minutes:00}m";

    public static string Size(long bytes) => ByteSize.Format(bytes);
}
