using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.Core.Scheduling;

/// <summary>
/// Makes due scheduled tasks runnable and fires the due ticks of recurring schedules: once a second, one promotion
/// script per queue (one round trip, however many tasks are due, when no tick is), and at once again while a whole
/// batch was due. Every worker and sweeper of this implementation runs one; promotions racing each other move each
/// task once and fire each tick once, since each script is atomic and a tick is fenced by its due score.
/// </summary>
public sealed class SchedulePromoter
{
    /// <summary>How often due tasks are looked for; it bounds how late a task runs after its due time.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly IReadOnlyList<DelayedQueue> _queues;
    private readonly Action<Exception> _onError;
    private readonly Dictionary<DelayedQueue, RecurringScheduleStore> _stores = new();

    public SchedulePromoter(IReadOnlyList<DelayedQueue> queues, Action<Exception> onError)
    {
        _queues = queues;
        _onError = onError;
    }

    /// <summary>Promotes once per queue, draining a backlog batch by batch; the total moved.</summary>
    public async Task<long> PromoteOnceAsync(CancellationToken stop = default)
    {
        long total = 0;
        foreach (var queue in _queues)
        {
            Promotion promotion;
            do
            {
                promotion = await queue.PromoteAndFindTicksAsync().ConfigureAwait(false);
                total += promotion.Moved;
                if (promotion.DueTicks.Count > 0) await Store(queue).FireAsync(promotion, _onError).ConfigureAwait(false);
            }
            while ((promotion.Moved >= DelayedQueue.PromoteBatch || promotion.DueTicks.Count >= Promotion.TickBatch) && !stop.IsCancellationRequested);
        }
        return total;
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
            try
            {
                await PromoteOnceAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _onError(e);
            }
            try
            {
                await Task.Delay(Interval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
