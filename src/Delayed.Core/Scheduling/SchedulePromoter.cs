using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.Core.Scheduling;

/// <summary>
/// Makes due scheduled tasks runnable and fires the due ticks of recurring schedules: once a second, or sooner when
/// something falls due sooner, one promotion script per queue (one round trip, however many tasks are due, when no
/// tick is), and at once again while a whole batch was due; what this process schedules meanwhile on the same connection
/// is promoted when due, not at the next look (<see cref="ScheduleNotices"/>). Every worker and sweeper of this implementation runs one;
/// promotions racing each other move each task once and fire each tick once, since each script is atomic and a tick
/// is fenced by its due score. Each queue is promoted apart: one that fails (its node of a cluster down, a key of
/// another type, an account refused its keys) is reported and tried again a second later, and holds up no other.
/// </summary>
public sealed class SchedulePromoter
{
    /// <summary>
    /// The longest wait between passes. A pass also learns the soonest due time still to come and waits only until
    /// then, so a task or run due within the second is promoted when due, not up to a second late.
    /// </summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>The shortest of two short waits between passes in a row, however soon the next due time (<see cref="PassSpacing"/>).</summary>
    public static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(10);

    private readonly IReadOnlyList<DelayedQueue> _queues;
    private readonly Action<DelayedQueue, Exception> _onError;
    private readonly Action<DelayedQueue, TimeSpan>? _onRecovered;
    private readonly FailureStreak[] _failures; // per queue: one failing queue's streak is not ended by another's success
    private readonly Dictionary<DelayedQueue, RecurringScheduleStore> _stores = new();
    private readonly TimeSpan _interval;
    private readonly NextPass _next = new();
    private long _passes;

    /// <param name="queues">The queues whose schedules it moves.</param>
    /// <param name="onError">Called when a queue's promotion (or the firing of one of its recurring runs) fails, with the queue.</param>
    /// <param name="onRecovered">Called when a queue's promotion works after failures, with how long they lasted.</param>
    public SchedulePromoter(IReadOnlyList<DelayedQueue> queues, Action<DelayedQueue, Exception> onError, Action<DelayedQueue, TimeSpan>? onRecovered = null)
        : this(queues, onError, onRecovered, Interval)
    {
    }

    /// <summary>As the public constructor, with the longest wait between passes: <see cref="Interval"/> but where a test needs a longer one.</summary>
    internal SchedulePromoter(IReadOnlyList<DelayedQueue> queues, Action<DelayedQueue, Exception> onError, Action<DelayedQueue, TimeSpan>? onRecovered, TimeSpan interval)
    {
        _interval = interval;
        _queues = queues;
        _onError = onError;
        _onRecovered = onRecovered;
        _failures = new FailureStreak[queues.Count];
        for (var i = 0; i < queues.Count; i++) _failures[i] = new FailureStreak();
    }

    /// <summary>Promotes once per queue, draining a backlog batch by batch; the total moved. A queue that fails is reported to onError.</summary>
    public async Task<long> PromoteOnceAsync(CancellationToken stop = default) => (await PassAsync(stop).ConfigureAwait(false)).Moved;

    /// <summary>
    /// A pass over every queue: what it moved, and how long until the soonest due time still to come (at most
    /// <see cref="Interval"/>; zero or less when something is due already), so that the next pass comes when it is due.
    /// </summary>
    private async Task<(long Moved, TimeSpan Wait)> PassAsync(CancellationToken stop)
    {
        _next.Begins();
        var wait = _interval;
        long total = 0;
        for (var i = 0; i < _queues.Count && !stop.IsCancellationRequested; i++)
        {
            var queue = _queues[i];
            try
            {
                var (moved, until) = await PromoteAsync(queue, stop).ConfigureAwait(false);
                total += moved;
                if (until < wait) wait = until;
                if (_failures[i].Ended() is { } lasted) _onRecovered?.Invoke(queue, lasted);
            }
            catch (Exception e)
            {
                // Tried again with the next pass, within the Interval; the queues after it are promoted now.
                _failures[i].Failed();
                _onError(queue, e);
            }
        }
        Interlocked.Increment(ref _passes);
        return (total, wait);
    }

    /// <summary>One queue's promotion, batch after batch while whole batches are due: what it moved, and how long until its next due time.</summary>
    private async Task<(long Moved, TimeSpan Until)> PromoteAsync(DelayedQueue queue, CancellationToken stop)
    {
        var wait = _interval;
        long total = 0;
        Promotion promotion;
        do
        {
            promotion = await queue.PromoteAndFindTicksAsync().ConfigureAwait(false);
            total += promotion.Moved;
            if (promotion.DueTicks.Count > 0 && await Store(queue).FireAsync(promotion, e => _onError(queue, e)).ConfigureAwait(false) is { } next)
            {
                var untilNext = next - DateTimeOffset.FromUnixTimeMilliseconds(promotion.ServerNowMs);
                if (untilNext < wait) wait = untilNext;
            }
        }
        while ((promotion.Moved >= DelayedQueue.PromoteBatch || promotion.DueTicks.Count >= Promotion.TickBatch) && !stop.IsCancellationRequested);
        if (promotion.UntilSoonestDue is { } until && until < wait) wait = until;
        return (total, wait);
    }

    private RecurringScheduleStore Store(DelayedQueue queue)
    {
        if (!_stores.TryGetValue(queue, out var store)) _stores[queue] = store = new RecurringScheduleStore(queue);
        return store;
    }

    /// <summary>The passes made so far (tests check that a promoter really is between passes).</summary>
    internal long Passes => Interlocked.Read(ref _passes);

    /// <summary>
    /// Promotes every <see cref="Interval"/>, or sooner when something falls due sooner (also a task this process schedules
    /// meanwhile on one of the queues' connections), until <paramref name="stop"/>; errors are reported, and it goes on.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var notices = new List<IDisposable>(_queues.Count);
        try
        {
            foreach (var queue in _queues) notices.Add(queue.Connection.ScheduleNotices.Listen(queue.Name, _next.Notice));
            var spacing = new PassSpacing();
            while (!stop.IsCancellationRequested)
            {
                var wait = spacing.Next((await PassAsync(stop).ConfigureAwait(false)).Wait);
                if (!await _next.WaitAsync(wait, stop).ConfigureAwait(false)) return;
            }
        }
        finally
        {
            foreach (var notice in notices) notice.Dispose();
        }
    }
}
