using System;

namespace Delayed.Core.Worker;

/// <summary>What a worker run did, counted per outcome.</summary>
public sealed class WorkerSummary
{
    public long Processed => Succeeded + Failed + Retried + Dropped;
    public long Succeeded { get; internal set; }
    public long Failed { get; internal set; }
    public long Retried { get; internal set; }
    public long Dropped { get; internal set; }
    public TimeSpan Duration { get; internal set; }
}
