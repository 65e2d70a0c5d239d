using System;

namespace Delayed;

/// <summary>A task a worker holds right now, as Get-DelayedProcessing shows it.</summary>
public sealed class ProcessingTask : TaskSnapshot
{
    internal ProcessingTask(Queue queue, string workerId, byte[] bytes, bool workerAlive, TimeSpan? timeToLive, DateTimeOffset? startedAt, WorkerInfo? worker)
        : base(queue, bytes)
    {
        WorkerId = workerId;
        WorkerAlive = workerAlive;
        TimeToLive = timeToLive;
        StartedAt = startedAt;
        Worker = worker;
    }

    public string WorkerId { get; }

    /// <summary>Whether the worker's liveness key exists; a task of a dead worker is recovered by the next sweep.</summary>
    public bool WorkerAlive { get; }

    /// <summary>Remaining TTL of the worker's liveness key.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <summary>When the task was claimed (local time, with its offset; workers of this module only, empty for Python and Go workers).</summary>
    public DateTimeOffset? StartedAt { get; }

    /// <summary>How long the task has run (workers of this module only).</summary>
    public TimeSpan? Running => StartedAt is { } started ? DateTimeOffset.Now - started : null;

    /// <summary>The worker's registration (workers of this module only).</summary>
    public WorkerInfo? Worker { get; }

    public string? WorkerHost => Worker?.Host;
    public int? WorkerProcessId => Worker?.ProcessId;
    public DateTimeOffset? WorkerStartedAt => Worker?.StartedAt;

    /// <summary>How long ago the worker last refreshed its liveness key (workers of this module only).</summary>
    public TimeSpan? SinceLastRefresh => Worker?.SinceLastRefresh;
}
