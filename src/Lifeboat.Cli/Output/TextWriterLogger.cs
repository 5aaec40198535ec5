using Microsoft.Extensions.Logging;

namespace Lifeboat.Cli.Output;

/// <summary>
/// Writes log messages as "lifeboat: warning: …" lines to the CLI's error stream, synchronously. With
/// <c>scopes</c> (the server, --verbose) a line written inside a call or run ends with its correlation id,
/// <c>[correlation=…]</c>, the id its events carry.
/// </summary>
public sealed class TextWriterLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly object _gate = new();
    private readonly TextWriter _writer;
    private readonly LogLevel _minimum;
    private readonly bool _scopes;
    private IExternalScopeProvider _scopeProvider = new LoggerExternalScopeProvider();

    public TextWriterLoggerProvider(TextWriter writer, LogLevel minimum, bool scopes = false)
    {
        _writer = writer;
        _minimum = minimum;
        _scopes = scopes;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopeProvider = scopeProvider;

    private string Suffix()
    {
        if (!_scopes)
        {
            return "";
        }

        string? correlation = null;
        _scopeProvider.ForEachScope((scope, _) =>
        {
            if (scope is Lifeboat.Engine.Application.CorrelationScope c)
            {
                correlation = c.CorrelationId;
            }
        }, (object?)null);
        return correlation is null ? "" : $" [correlation={correlation}]";
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriterLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopeProvider.Push(state);

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
                provider._writer.WriteLine($"lifeboat: {level}: {formatter(state, exception)}{provider.Suffix()}");
                if (exception is not null && provider._minimum <= LogLevel.Debug)
                {
                    provider._writer.WriteLine(exception.ToString());
                }
            }
        }
    }
}
