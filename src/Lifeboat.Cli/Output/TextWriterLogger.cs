using Microsoft.Extensions.Logging;

namespace Lifeboat.Cli.Output;

/// <summary>Writes log messages as "lifeboat: warning: …" lines to the CLI's error stream, synchronously.</summary>
public sealed class TextWriterLoggerProvider : ILoggerProvider
{
    private readonly object _gate = new();
    private readonly TextWriter _writer;
    private readonly LogLevel _minimum;

    public TextWriterLoggerProvider(TextWriter writer, LogLevel minimum)
    {
        _writer = writer;
        _minimum = minimum;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriterLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= provider._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var level = logLevel switch
            {
                LogLevel.Trace or LogLevel.Debug => "debug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warning",
                _ => "error",
            };
            lock (provider._gate)
            {
                provider._writer.WriteLine($"lifeboat: {level}: {formatter(state, exception)}");
                if (exception is not null && provider._minimum <= LogLevel.Debug)
                {
                    provider._writer.WriteLine(exception.ToString());
                }
            }
        }
    }
}
