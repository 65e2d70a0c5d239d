using System;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.Core.Telemetry;

/// <summary>
/// Takes looks at one queue for a view that refreshes (the metrics endpoint, Watch-DelayedQueue, the dashboard): each
/// look reads its counts and workers, and both ends of its list, whose changes from one look to the next tell how long
/// the oldest task has waited (<see cref="WaitingAge"/>); a detailed look also reads the running tasks, whose claim
/// numbers give the start rate (<see cref="ClaimRate"/>), and the newest failures.
/// </summary>
public sealed class QueueSampler
{
    private readonly WaitingAge _age = new();
    private readonly ClaimRate _rate = new();
    private readonly object _gate = new();

    public QueueSampler(DelayedQueue queue) => Queue = queue;

    public DelayedQueue Queue { get; }

    /// <summary>One look, its reads sent together.</summary>
    /// <param name="newestFailed">How many of the newest failures a detailed look reads; 0 reads none.</param>
    /// <param name="detailed">Whether to read the running tasks and the newest failures as well.</param>
    public async Task<QueueSample> SampleAsync(bool detailed = false, int newestFailed = 5)
    {
        var status = Queue.GetStatusAsync();
        var workers = Queue.GetWorkersAsync();
        var ends = Queue.PeekEndsAsync();
        var inFlight = detailed ? Queue.GetInFlightAsync() : null;
        var failed = detailed ? Queue.GetNewestFailedAsync(newestFailed) : null;
        var (head, tail) = await ends.ConfigureAwait(false);
        var read = await status.ConfigureAwait(false);
        var alive = (await workers.ConfigureAwait(false)).LongCount(w => w.Alive);
        var held = inFlight is null ? null : await inFlight.ConfigureAwait(false);
        var failures = failed is null ? null : await failed.ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        TimeSpan oldest;
        double? rate = null;
        long? started = null;
        lock (_gate)
        {
            oldest = _age.Observe(read.Length, head, tail, now);
            if (held is not null)
            {
                rate = _rate.Observe(held, now);
                started = _rate.LastCount;
            }
        }
        return new QueueSample(Queue.Name, now, read, alive, oldest, held, failures, rate, started);
    }
}
