using Lifeboat.Core;

namespace Lifeboat.Cli.Output;

/// <summary>
/// A one-line progress display on a terminal: a bar when the total is known, counters otherwise. Does nothing when
/// stderr is not a terminal (scripts and logs get the final summary only).
/// </summary>
public sealed class ProgressLine : IDisposable
{
    private readonly TextWriter _writer;
    private readonly bool _enabled;
    private readonly string _label;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly object _gate = new();
    private int _lastLength;

    public ProgressLine(TextWriter writer, bool enabled, string label, long? total, TimeProvider time)
    {
        _writer = writer;
        _enabled = enabled;
        _label = label;
        Total = total;
        _time = time;
        _started = time.GetTimestamp();
    }

    public long? Total { get; set; }

    /// <summary>Shows <paramref name="done"/> bytes of <see cref="Total"/> and a free-form detail.</summary>
    public void Update(long done, string detail)
    {
        if (!_enabled)
        {
            return;
        }

        var elapsed = _time.GetElapsedTime(_started);
        var rate = elapsed.TotalSeconds > 0.5 ? $" {ByteSize.Format((long)(done / elapsed.TotalSeconds))}/s" : "";
        string text;
        if (Total is > 0 and var total)
        {
            var fraction = Math.Clamp((double)done / total, 0, 1);
            const int width = 24;
            var filled = (int)(fraction * width);
            text = $"{_label} [{new string('#', filled)}{new string('-', width - filled)}] {fraction * 100,3:0}% {ByteSize.Format(done)}/{ByteSize.Format(total)}{rate} {detail}";
        }
        else
        {
            text = $"{_label} {ByteSize.Format(done)}{rate} {detail}";
        }

        lock (_gate)
        {
            var pad = Math.Max(0, _lastLength - text.Length);
            _writer.Write("\r" + text + new string(' ', pad));
            _lastLength = text.Length;
        }
    }

    public void Dispose()
    {
        if (_enabled && _lastLength > 0)
        {
            lock (_gate)
            {
                _writer.Write("\r" + new string(' ', _lastLength) + "\r");
            }
        }
    }
}
