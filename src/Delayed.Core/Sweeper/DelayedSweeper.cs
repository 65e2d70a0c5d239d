using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
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
    /// Called when a queue's pass fails, or the moving of its due scheduled tasks between passes: the queue's name, which
    /// of the two failed, and the failure. The sweeper goes on: the next pass, or the next move a second later, tries
    /// again, and the other queues are swept and promoted meanwhile.
    /// </summary>
    public Action<string, SweeperStep, Exception>? OnError { get; set; }

    /// <summary>Called when a queue's passes, or the moving of its due scheduled tasks, work again after failures, with how long they failed.</summary>
    public Action<string, SweeperStep, TimeSpan>? OnRecovered { get; set; }

    private readonly Dictionary<(DelayedQueue, SweeperStep), FailureStreak> _failures = new(); // per queue and step: the passes', one at a time

    /// <summary>One pass over every queue, which also moves its due scheduled tasks (a sweeper that runs on does that between passes).</summary>
    public Task SweepOnceAsync() => PassAsync(promote: true);

    /// <summary>
    /// Each queue's sweep, then (with <paramref name="promote"/>) the move of its due scheduled tasks, apart: a schedule that
    /// cannot be read does not keep the tasks of dead workers from being recovered, nor one queue the others.
    /// </summary>
    private async Task PassAsync(bool promote)
    {
        // Servers that did not answer in this pass, with the failure: their other queues are not tried again in it, so
        // that a pass over many queues of a server that is down costs one timeout, not one per queue and step.
        Dictionary<DelayedConnection, (string Queue, Exception Error)>? down = null;
        foreach (var queue in _queues)
        {
            if (down is not null && down.TryGetValue(queue.Connection, out var first))
            {
                await StepAsync(queue, SweeperStep.Sweep, () => Task.FromException(new DelayedConnectionException(
                    $"Not tried: Redis did not answer the sweep of queue '{first.Queue}' in this pass.", first.Error))).ConfigureAwait(false);
                continue;
            }
            var swept = await StepAsync(queue, SweeperStep.Sweep, async () =>
            {
                // Not OnSwept?.Invoke(await ...): without a listener that would skip the sweep itself.
                var result = await queue.SweepAsync().ConfigureAwait(false);
                OnSwept?.Invoke(result);
            }).ConfigureAwait(false);
            if (swept is not null && Failures.IsOutOfReach(swept))
            {
                (down ??= new Dictionary<DelayedConnection, (string, Exception)>())[queue.Connection] = (queue.Name, swept);
                continue; // nor the move of its due tasks: a second wait for the same timeout
            }
            if (promote) await StepAsync(queue, SweeperStep.Promotion, () => queue.PromoteAsync()).ConfigureAwait(false);
        }
    }

    /// <summary>One step of a queue's pass; its failure (reported), or null.</summary>
    private async Task<Exception?> StepAsync(DelayedQueue queue, SweeperStep step, Func<Task> work)
    {
        if (!_failures.TryGetValue((queue, step), out var failures)) _failures[(queue, step)] = failures = new FailureStreak();
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (Exception e) when (OnError is not null)
        {
            failures.Failed();
            OnError(queue.Name, step, e);
            return e;
        }
        if (failures.Ended() is { } lasted) OnRecovered?.Invoke(queue.Name, step, lasted);
        return null;
    }

    /// <summary>
    /// Passes until <paramref name="stop"/>, and meanwhile makes due scheduled tasks runnable as they fall due
    /// (<see cref="SchedulePromoter"/>): a queue served only by Python or Go workers needs a sweeper for that.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var promoter = new SchedulePromoter(_queues, (queue, e) => OnError?.Invoke(queue.Name, SweeperStep.Promotion, e),
            (queue, lasted) => OnRecovered?.Invoke(queue.Name, SweeperStep.Promotion, lasted));
        using var promoting = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var promotion = Task.Run(() => promoter.RunAsync(promoting.Token), CancellationToken.None);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await PassAsync(promote: false).ConfigureAwait(false); // the promoter moves due tasks as they fall due
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
