using System;

namespace Delayed.Core.Queue;

/// <summary>A registered worker of this implementation, as Redis sees it now.</summary>
public sealed class WorkerState
{
    public WorkerState(string workerId, WorkerDescription description, bool alive, TimeSpan? timeToLive, bool stopRequested)
    {
        WorkerId = workerId;
        Description = description;
        Alive = alive;
        TimeToLive = timeToLive;
        StopRequested = stopRequested;
    }

    public string WorkerId { get; }
    public WorkerDescription Description { get; }
    public bool Alive { get; }
    public TimeSpan? TimeToLive { get; }
    public bool StopRequested { get; }

    /// <summary>How long ago the worker last refreshed its liveness key (its TTL minus what is left of it).</summary>
    public TimeSpan? SinceLastRefresh =>
        Alive && TimeToLive is { } left ? TimeSpan.FromSeconds(Description.KeepAliveSeconds) - left : null;
}
