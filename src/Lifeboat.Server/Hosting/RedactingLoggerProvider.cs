using Lifeboat.Core;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// Every log line of the server passes through <see cref="Redact"/> before it is written: ASP.NET Core's own request
/// logs print URLs with their query strings (a client may send <c>?token=…</c>), and a connection string or a target
/// URL with credentials may end up in a message. Passwords in URLs and connection strings and credential query
/// parameters become <c>***</c>.
/// </summary>
public sealed class RedactingLoggerProvider(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
{
    /// <summary>The host's scopes (the correlation id of a request or job) reach the inner provider.</summary>
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => (inner as ISupportExternalScope)?.SetScopeProvider(scopeProvider);

    public ILogger CreateLogger(string categoryName) => new Logger(inner.CreateLogger(categoryName));

    public void Dispose()
    {
        // The inner provider belongs to the caller.
    }

    private sealed class Logger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => inner.Log(logLevel, eventId, state, exception, (s, e) => Redact.ConnectionString(formatter(s, e)));
    }
}
