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

    /// <summary>One line, for where a table cannot go (the host after Ctrl+C, a log).</summary>
    public override string ToString() =>
        $"Worker on queue '{Queue}' stopped after {Duration:hh\\:mm\\:ss}: {Processed} processed, {Succeeded} succeeded, {Failed} failed, {Retried} retried, {Returned} returned.";
}
