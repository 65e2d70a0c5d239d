using System;

namespace Delayed.Core.Queue;

/// <summary>One entry of the processing hash, with what Redis says about its worker.</summary>
public sealed class InFlightTask
{
    public InFlightTask(string workerId, byte[] raw, bool workerAlive, TimeSpan? timeToLive, DateTimeOffset? startedAt, WorkerState? worker = null, long? claims = null)
    {
        Claims = claims;
        Worker = worker;
        WorkerId = workerId;
        Raw = raw;
        WorkerAlive = workerAlive;
        TimeToLive = timeToLive;
        StartedAt = startedAt;
    }

    public string WorkerId { get; }

    /// <summary>The task's bytes exactly as the worker popped them.</summary>
    public byte[] Raw { get; }

    /// <summary>Whether the worker's liveness key exists.</summary>
    public bool WorkerAlive { get; }

    /// <summary>Remaining TTL of the liveness key; null when it is gone or has no expiry.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <summary>The worker's registration, for workers of this implementation; null for Python and Go workers.</summary>
    public WorkerState? Worker { get; }

    /// <summary>When the task was claimed, for tasks held by this implementation's workers; null otherwise.</summary>
    public DateTimeOffset? StartedAt { get; }

    /// <summary>How many tasks the worker has claimed, this one included (workers of this implementation; null otherwise).</summary>
    public long? Claims { get; }
}
