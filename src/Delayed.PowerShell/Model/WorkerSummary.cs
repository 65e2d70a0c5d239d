using System;

namespace Delayed;

/// <summary>What one Start-DelayedWorker run did.</summary>
public sealed class WorkerSummary
{
    internal WorkerSummary(string queue, string[] workerIds, long succeeded, long failed, long retried, long dropped, TimeSpan duration)
    {
        Queue = queue;
        WorkerIds = workerIds;
        Succeeded = succeeded;
        Failed = failed;
        Retried = retried;
        Dropped = dropped;
        Duration = duration;
    }

    public string Queue { get; }
    public string[] WorkerIds { get; }
    public long Processed => Succeeded + Failed + Retried + Dropped;
    public long Succeeded { get; }
    public long Failed { get; }
    public long Retried { get; }
    public long Dropped { get; }
    public TimeSpan Duration { get; }
}
