using System;
using System.Linq;
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
        StartedAt = state.Description.Problem is null ? state.Description.StartedAt.ToLocalTime() : null;
        Problem = state.Description.Problem;
        Alive = state.Alive;
        TimeToLive = state.TimeToLive;
        SinceLastRefresh = state.SinceLastRefresh;
        StopRequested = state.StopRequested;
        Queues = state.Description.Queues.Count > 0 ? state.Description.Queues.ToArray() : new[] { queue.Name };
    }

    public Queue Queue { get; }
    public string WorkerId { get; }
    public string Host { get; }
    public int ProcessId { get; }

    /// <summary>When the worker started (local time, with its offset); empty when its entry cannot be read.</summary>
    public DateTimeOffset? StartedAt { get; }

    /// <summary>Why the worker's entry in the queue's worker list cannot be read, if it cannot (written by something else?).</summary>
    public string? Problem { get; }

    /// <summary>Whether its liveness key exists. A gone worker's entry is removed by the next sweep.</summary>
    public bool Alive { get; }

    public TimeSpan? TimeToLive { get; }

    /// <summary>How long ago it last refreshed its liveness key.</summary>
    public TimeSpan? SinceLastRefresh { get; }

    /// <summary>The queues the worker serves, in the order it claims from them (Start-DelayedWorker high, default, low).</summary>
    public string[] Queues { get; }

    /// <summary>Whether Stop-DelayedWorker asked it to stop.</summary>
    public bool StopRequested { get; }
}
