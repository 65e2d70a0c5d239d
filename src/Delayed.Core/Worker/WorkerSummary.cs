using System;

namespace Delayed.Core.Worker;

/// <summary>What a worker run did, counted per outcome.</summary>
public sealed class WorkerSummary
{
    public long Processed => Succeeded + Failed + Retried + Returned;
    public long Succeeded { get; internal set; }
    public long Failed { get; internal set; }
    public long Retried { get; internal set; }
    /// <summary>Tasks put back for want of a handler here.</summary>
    public long Returned { get; internal set; }
    public TimeSpan Duration { get; internal set; }
}
