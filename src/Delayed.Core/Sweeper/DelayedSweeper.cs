using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Delayed.Core.Scheduling;

namespace Delayed.Core.Sweeper;

/// <summary>
/// Sweeps queues at an interval (docs/protocol.md, Operations: Sweep): sweeps first, then sleeps. Errors are reported
/// and the loop goes on. Several sweepers may run at once; each pass is atomic.
/// </summary>
public sealed class DelayedSweeper
{
    private readonly IReadOnlyList<DelayedQueue> _queues;

    public DelayedSweeper(IReadOnlyList<DelayedQueue> queues, TimeSpan? interval = null)
    {
        _queues = queues;
        Interval = interval ?? TimeSpan.FromSeconds(60);
        if (Interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), Interval, "The sweep interval must be positive.");
    }

    public TimeSpan Interval { get; }

    /// <summary>Called after each queue's pass.</summary>
    public Action<SweepResult>? OnSwept { get; set; }

    /// <summary>
    /// Called when a queue's pass fails (with the queue's name), or the moving of due scheduled tasks between passes (with
    /// null); the sweeper goes on: the next pass, or the next move a second later, tries again.
    /// </summary>
    public Action<string?, Exception>? OnError { get; set; }

    /// <summary>Called when passes, or the moving of due scheduled tasks, work again after failures, with how long they failed.</summary>
    public Action<TimeSpan>? OnRecovered { get; set; }

    private readonly FailureStreak _failures = new(); // the passes': one at a time

    /// <summary>One pass over every queue.</summary>
    public async Task SweepOnceAsync()
    {
        foreach (var queue in _queues)
        {
            try
            {
                await queue.PromoteAsync().ConfigureAwait(false);
                var result = await queue.SweepAsync().ConfigureAwait(false);
                if (_failures.Ended() is { } lasted) OnRecovered?.Invoke(lasted);
                OnSwept?.Invoke(result);
            }
            catch (Exception e) when (OnError is not null)
            {
                _failures.Failed();
                OnError(queue.Name, e);
            }
        }
    }

    /// <summary>
    /// Passes until <paramref name="stop"/>, and meanwhile makes due scheduled tasks runnable as they fall due
    /// (<see cref="SchedulePromoter"/>): a queue served only by Python or Go workers needs a sweeper for that.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var promoter = new SchedulePromoter(_queues, e => OnError?.Invoke(null, e), lasted => OnRecovered?.Invoke(lasted));
        using var promoting = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var promotion = Task.Run(() => promoter.RunAsync(promoting.Token), CancellationToken.None);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await SweepOnceAsync().ConfigureAwait(false);
                if (!await QuietDelay.WaitAsync(Interval, stop).ConfigureAwait(false)) return;
            }
        }
        finally
        {
            promoting.Cancel();
            await promotion.ConfigureAwait(false);
        }
    }
}
