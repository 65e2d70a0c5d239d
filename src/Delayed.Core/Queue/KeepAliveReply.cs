namespace Delayed.Core.Queue;

/// <summary>What a refresh of a worker's liveness key heard back.</summary>
internal readonly struct KeepAliveReply
{
    public KeepAliveReply(bool alive, string? stopTracked, bool stopRequested)
    {
        Alive = alive;
        StopTracked = stopTracked;
        StopRequested = stopRequested;
    }

    /// <summary>False when the key was gone and the worker was registered again (a lapse).</summary>
    public bool Alive { get; }

    /// <summary>The id of a tracked task the worker is asked to stop (Stop-Job); null for none.</summary>
    public string? StopTracked { get; }

    /// <summary>Whether the worker is asked to stop (Stop-DelayedWorker, through any of its queues).</summary>
    public bool StopRequested { get; }
}
