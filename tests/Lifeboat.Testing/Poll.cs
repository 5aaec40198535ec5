namespace Lifeboat.Testing;

/// <summary>Waiting for a condition another process makes true (a file appears, PostgreSQL reports a segment archived).</summary>
public static class Poll
{
    /// <summary>
    /// Returns once <paramref name="condition"/> holds, checking every 20 ms; fails the test naming
    /// <paramref name="what"/> after <paramref name="timeout"/> (default 60 s).
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var started = TimeProvider.System.GetTimestamp();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < limit, $"timed out waiting until {what}");
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, string, CancellationToken, TimeSpan?)"/>
    public static Task UntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken, TimeSpan? timeout = null)
        => UntilAsync(() => Task.FromResult(condition()), what, cancellationToken, timeout);
}
