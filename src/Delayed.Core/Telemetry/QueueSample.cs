using System;
using Delayed.Core.Queue;

namespace Delayed.Core.Telemetry;

/// <summary>One look at a queue: its counts, its live workers, and how long its oldest task has waited at least.</summary>
public sealed class QueueSample
{
    public QueueSample(string queue, DateTimeOffset takenAt, QueueStatus status, long workersAlive, TimeSpan? oldestWaiting)
    {
        Queue = queue;
        TakenAt = takenAt;
        Status = status;
        WorkersAlive = workersAlive;
        OldestWaiting = oldestWaiting;
    }

    public string Queue { get; }

    public DateTimeOffset TakenAt { get; }

    public QueueStatus Status { get; }

    /// <summary>Registered workers of this implementation whose liveness key exists.</summary>
    public long WorkersAlive { get; }

    /// <summary>How long the task at the head has waited at least (<see cref="WaitingAge"/>); null when not looked for.</summary>
    public TimeSpan? OldestWaiting { get; }
}
