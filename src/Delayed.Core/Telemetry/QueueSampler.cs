using System;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.Core.Telemetry;

/// <summary>
/// Takes looks at one queue for a view that refreshes (the metrics endpoint, Watch-DelayedQueue, the dashboard): each
/// look reads its counts and workers, and both ends of its list, whose changes from one look to the next tell how long
/// the oldest task has waited (<see cref="WaitingAge"/>).
/// </summary>
public sealed class QueueSampler
{
    private readonly WaitingAge _age = new();
    private readonly object _gate = new();

    public QueueSampler(DelayedQueue queue) => Queue = queue;

    public DelayedQueue Queue { get; }

    /// <summary>One look: three round trips, the liveness checks of registered and in-flight workers among them.</summary>
    public async Task<QueueSample> SampleAsync()
    {
        var status = Queue.GetStatusAsync();
        var workers = Queue.GetWorkersAsync();
        var ends = Queue.PeekEndsAsync();
        var (head, tail) = await ends.ConfigureAwait(false);
        var read = await status.ConfigureAwait(false);
        var alive = (await workers.ConfigureAwait(false)).LongCount(w => w.Alive);
        var now = DateTimeOffset.UtcNow;
        TimeSpan oldest;
        lock (_gate) oldest = _age.Observe(read.Length, head, tail, now);
        return new QueueSample(Queue.Name, now, read, alive, oldest);
    }
}
