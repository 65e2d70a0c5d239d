using System;
using Delayed.Core.Queue;

namespace Delayed;

/// <summary>A worker of this module registered on a queue, as Get-DelayedWorker shows it.</summary>
public sealed class WorkerInfo
{
    internal WorkerInfo(Queue queue, WorkerState state)
    {
        Queue = queue;
        WorkerId = state.WorkerId;
        Host = state.Description.Host;
        ProcessId = state.Description.ProcessId;
        StartedAt = state.Description.StartedAt.UtcDateTime;
        Alive = state.Alive;
        TimeToLive = state.TimeToLive;
        SinceLastRefresh = state.SinceLastRefresh;
        StopRequested = state.StopRequested;
    }

    public Queue Queue { get; }
    public string WorkerId { get; }
    public string Host { get; }
    public int ProcessId { get; }

    /// <summary>When the worker started (UTC).</summary>
    public DateTime StartedAt { get; }

    /// <summary>Whether its liveness key exists. A gone worker's entry is removed by the next sweep.</summary>
    public bool Alive { get; }

    public TimeSpan? TimeToLive { get; }

    /// <summary>How long ago it last refreshed its liveness key.</summary>
    public TimeSpan? SinceLastRefresh { get; }

    /// <summary>Whether Stop-DelayedWorker asked it to stop.</summary>
    public bool StopRequested { get; }
}
