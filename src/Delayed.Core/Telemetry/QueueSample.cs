using System;
using System.Collections.Generic;
using Delayed.Core.Queue;

namespace Delayed.Core.Telemetry;

/// <summary>One look at a queue: its counts, its live workers, how long its oldest task has waited at least, and in a detailed look its running tasks, newest failures and start rate.</summary>
public sealed class QueueSample
{
    public QueueSample(string queue, DateTimeOffset takenAt, QueueStatus status, long workersAlive, TimeSpan? oldestWaiting,
        IReadOnlyList<InFlightTask>? inFlight = null, IReadOnlyList<FailedEntry>? newestFailed = null, double? startedPerSecond = null, long? startedSinceLastLook = null)
    {
        StartedSinceLastLook = startedSinceLastLook;
        Queue = queue;
        TakenAt = takenAt;
        Status = status;
        WorkersAlive = workersAlive;
        OldestWaiting = oldestWaiting;
        InFlight = inFlight ?? Array.Empty<InFlightTask>();
        NewestFailed = newestFailed ?? Array.Empty<FailedEntry>();
        StartedPerSecond = startedPerSecond;
    }

    public string Queue { get; }

    public DateTimeOffset TakenAt { get; }

    public QueueStatus Status { get; }

    /// <summary>Registered workers of this implementation whose liveness key exists.</summary>
    public long WorkersAlive { get; }

    /// <summary>How long the task at the head has waited at least (<see cref="WaitingAge"/>).</summary>
    public TimeSpan? OldestWaiting { get; }

    /// <summary>The tasks held by workers (a detailed look only).</summary>
    public IReadOnlyList<InFlightTask> InFlight { get; }

    /// <summary>The newest failed tasks, newest first (a detailed look only).</summary>
    public IReadOnlyList<FailedEntry> NewestFailed { get; }

    /// <summary>Tasks this implementation's workers started per second over the last minute (<see cref="ClaimRate"/>; a detailed look only).</summary>
    public double? StartedPerSecond { get; }

    /// <summary>Tasks this implementation's workers started since the sampler's previous look (a detailed look only).</summary>
    public long? StartedSinceLastLook { get; }
}
