using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Delayed.Core.Scheduling;

/// <summary>
/// When a promoter makes its next pass: after the wait its last pass planned, or sooner when this process schedules a
/// task due sooner (<see cref="ScheduleNotices"/>), but never within <see cref="SchedulePromoter.MinimumWait"/> of the
/// last pass, which bounds the passes that a stream of failures retried after short back-offs can cause.
/// </summary>
internal sealed class NextPass
{
    private static readonly long MinimumGap = ToStopwatchTicks(SchedulePromoter.MinimumWait);
    private readonly object _gate = new();
    /// <summary>The soonest due time noticed since the last pass began (Stopwatch time); a notice before that concerns a task the pass saw.</summary>
    private long _noticed = long.MaxValue;
    private long _lastPass = long.MinValue / 2;
    /// <summary>Completed by a notice sooner than the wait in progress, which then waits anew.</summary>
    private TaskCompletionSource<bool>? _sooner;

    /// <summary>A pass begins: it reads what is due from the server, so only notices from now on can concern tasks it misses.</summary>
    public void Begins()
    {
        lock (_gate)
        {
            _noticed = long.MaxValue;
            _lastPass = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>A task falls due in about <paramref name="dueIn"/>: the wait in progress ends then, if it would end later. Safe from any thread.</summary>
    public void Notice(TimeSpan dueIn)
    {
        var at = Stopwatch.GetTimestamp() + ToStopwatchTicks(dueIn);
        TaskCompletionSource<bool>? sooner;
        lock (_gate)
        {
            if (at >= _noticed) return;
            _noticed = at;
            sooner = _sooner;
            _sooner = null;
        }
        sooner?.TrySetResult(true);
    }

    /// <summary>Waits <paramref name="wait"/>, or until a task noticed meanwhile falls due; false when <paramref name="stop"/> cut it short.</summary>
    public async Task<bool> WaitAsync(TimeSpan wait, CancellationToken stop)
    {
        var planned = Stopwatch.GetTimestamp() + ToStopwatchTicks(wait);
        while (true)
        {
            long until;
            TaskCompletionSource<bool> sooner;
            lock (_gate)
            {
                until = Math.Min(planned, Math.Max(_noticed, _lastPass + MinimumGap));
                _sooner = sooner = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            var left = until - Stopwatch.GetTimestamp();
            if (stop.IsCancellationRequested) return false;
            if (left <= 0) return true;
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stop);
            // Whole milliseconds, rounded up: Task.Delay drops a fraction, and a pass a moment before the due time it waits
            // for finds nothing due yet by the server's clock; the one after it comes only after the minimum wait
            // (PassSpacing), ~10 ms late (the due-to-start p99 of the benchmark went from 5-10 to 11-13 ms; bench/README.md).
            var delay = Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(left * 1000.0 / Stopwatch.Frequency)), waiting.Token);
            var ended = await Task.WhenAny(delay, sooner.Task).ConfigureAwait(false);
            if (stop.IsCancellationRequested) return false;
            if (ended == delay) return true;
            // A notice came sooner: the timer goes, and the wait is worked out again.
            waiting.Cancel();
        }
    }

    private static long ToStopwatchTicks(TimeSpan span) =>
        span <= TimeSpan.Zero ? 0 : (long)Math.Min(span.Ticks * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond, long.MaxValue / 4);
}
