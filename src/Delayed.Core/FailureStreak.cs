using System;
using System.Diagnostics;

namespace Delayed.Core;

/// <summary>
/// Failures in a row of one loop (a worker slot's claims, its keep-alive refreshes, the schedule's promotion, a sweeper's
/// passes), so that the first success after them can say how long Redis did not answer (<see cref="Worker.WorkerEventKind.WorkerRecovered"/>).
/// Used by one loop at a time.
/// </summary>
internal sealed class FailureStreak
{
    private long _since;

    public void Failed()
    {
        if (_since == 0) _since = Stopwatch.GetTimestamp();
    }

    /// <summary>After a success: how long the failures lasted, or null when there were none.</summary>
    public TimeSpan? Ended()
    {
        if (_since == 0) return null;
        var lasted = TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - _since) / (double)Stopwatch.Frequency);
        _since = 0;
        return lasted;
    }
}
