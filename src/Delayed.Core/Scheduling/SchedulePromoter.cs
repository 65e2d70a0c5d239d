using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.Core.Scheduling;

/// <summary>
/// Makes due scheduled tasks runnable and fires the due ticks of recurring schedules: once a second, or sooner when
/// something falls due sooner, one promotion script per queue (one round trip, however many tasks are due, when no
/// tick is), and at once again while a whole batch was due. Every worker and sweeper of this implementation runs one;
/// promotions racing each other move each task once and fire each tick once, since each script is atomic and a tick
/// is fenced by its due score.
/// </summary>
public sealed class SchedulePromoter
{
    /// <summary>
    /// The longest wait between passes. A pass also learns the soonest due time still to come and waits only until
    /// then, so a task or run due within the second is promoted when due, not up to a second late.
    /// </summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>The shortest wait between passes, however soon the next due time: it bounds the round trips when much is due.</summary>
    public static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(10);

    private readonly IReadOnlyList<DelayedQueue> _queues;
    private readonly Action<Exception> _onError;
    private readonly Action<TimeSpan>? _onRecovered;
    private readonly FailureStreak _failures = new();
    private readonly Dictionary<DelayedQueue, RecurringScheduleStore> _stores = new();

    /// <param name="queues">The queues whose schedules it moves.</param>
    /// <param name="onError">Called when a pass fails.</param>
    /// <param name="onRecovered">Called when a pass works after failures, with how long they lasted.</param>
    public SchedulePromoter(IReadOnlyList<DelayedQueue> queues, Action<Exception> onError, Action<TimeSpan>? onRecovered = null)
    {
        _queues = queues;
        _onError = onError;
        _onRecovered = onRecovered;
    }

    /// <summary>Promotes once per queue, draining a backlog batch by batch; the total moved.</summary>
    public async Task<long> PromoteOnceAsync(CancellationToken stop = default) => (await PassAsync(stop).ConfigureAwait(false)).Moved;

    /// <summary>
    /// A pass over every queue: what it moved, and how long until the soonest due time still to come (at most
    /// <see cref="Interval"/>, at least <see cref="MinimumWait"/>), so that the next pass comes when it is due.
    /// </summary>
    private async Task<(long Moved, TimeSpan Wait)> PassAsync(CancellationToken stop)
    {
        var wait = Interval;
        long total = 0;
        foreach (var queue in _queues)
        {
            Promotion promotion;
            do
            {
                promotion = await queue.PromoteAndFindTicksAsync().ConfigureAwait(false);
                total += promotion.Moved;
                if (promotion.DueTicks.Count > 0 && await Store(queue).FireAsync(promotion, _onError).ConfigureAwait(false) is { } next)
                {
                    var untilNext = next - DateTimeOffset.FromUnixTimeMilliseconds(promotion.ServerNowMs);
                    if (untilNext < wait) wait = untilNext;
                }
            }
            while ((promotion.Moved >= DelayedQueue.PromoteBatch || promotion.DueTicks.Count >= Promotion.TickBatch) && !stop.IsCancellationRequested);
            if (promotion.UntilSoonestDue is { } until && until < wait) wait = until;
        }
        return (total, wait < MinimumWait ? MinimumWait : wait);
    }

    private RecurringScheduleStore Store(DelayedQueue queue)
    {
        if (!_stores.TryGetValue(queue, out var store)) _stores[queue] = store = new RecurringScheduleStore(queue);
        return store;
    }

    /// <summary>Promotes every <see cref="Interval"/> until <paramref name="stop"/>; errors are reported, and it goes on.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var wait = Interval;
            try
            {
                wait = (await PassAsync(stop).ConfigureAwait(false)).Wait;
                if (_failures.Ended() is { } lasted) _onRecovered?.Invoke(lasted);
            }
            catch (Exception e)
            {
                _failures.Failed();
                _onError(e);
            }
            if (!await QuietDelay.WaitAsync(wait, stop).ConfigureAwait(false)) return;
        }
    }
}
