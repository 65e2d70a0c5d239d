using System;

namespace Delayed;

/// <summary>What one Start-DelayedWorker run did.</summary>
public sealed class WorkerSummary
{
    internal WorkerSummary(string queue, string[] workerIds, long succeeded, long failed, long retried, long returned, TimeSpan duration)
    {
        Queue = queue;
        WorkerIds = workerIds;
        Succeeded = succeeded;
        Failed = failed;
        Retried = retried;
        Returned = returned;
        Duration = duration;
    }

    public string Queue { get; }
    public string[] WorkerIds { get; }
    public long Processed => Succeeded + Failed + Retried + Returned;
    public long Succeeded { get; }
    public long Failed { get; }
    public long Retried { get; }

    /// <summary>Tasks put back for a worker that has a handler for their names.</summary>
    public long Returned { get; }
    public TimeSpan Duration { get; }
}
