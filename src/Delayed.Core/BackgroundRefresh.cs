using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Delayed.Core;

/// <summary>
/// A value found by a slow read (e.g. a SCAN of every key of a server) and found again at most every
/// <see cref="Interval"/>, in the background: once a value is known, readers get it at once, never waiting for a read
/// under way, and a read that fails keeps the last value (the next reader after the interval starts another). Until a
/// first value is known, readers wait for the read, and one that failed is tried again by the next reader.
/// </summary>
public sealed class BackgroundRefresh<T> where T : class
{
    private readonly Func<Task<T>> _read;
    private readonly object _gate = new();
    private Task<T>? _reading;
    private T? _value;
    private long _readAt;

    /// <param name="read">The slow read.</param>
    /// <param name="interval">How long a value is used before it is read again.</param>
    public BackgroundRefresh(Func<Task<T>> read, TimeSpan interval)
    {
        _read = read ?? throw new ArgumentNullException(nameof(read));
        Interval = interval;
    }

    public TimeSpan Interval { get; }

    /// <summary>The value: the last one known, a new read started in the background when it is older than the interval.</summary>
    public Task<T> GetAsync()
    {
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            var due = _reading is null || _reading.IsFaulted || (_reading.IsCompleted && now - _readAt > Interval.TotalSeconds * Stopwatch.Frequency);
            if (due)
            {
                _readAt = now;
                _reading = ReadAsync();
            }
            return _value is { } known ? Task.FromResult(known) : _reading!;
        }
    }

    private async Task<T> ReadAsync()
    {
        // Off the caller's thread and lock: a read may be slow before its first await too.
        await Task.Yield();
        try
        {
            var value = await _read().ConfigureAwait(false);
            Volatile.Write(ref _value, value);
            return value;
        }
        catch (Exception) when (Volatile.Read(ref _value) is not null)
        {
            // Readers go on with the last value; the failure is not theirs to see (nor an unobserved task's).
            return _value!;
        }
    }
}
