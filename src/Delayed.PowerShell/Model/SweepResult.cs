using System;

namespace Delayed;

/// <summary>One sweep of one queue by Start-DelayedSweeper.</summary>
public sealed class SweepResult
{
    internal SweepResult(string queue, long recovered, long tokenAdjustment)
    {
        Queue = queue;
        Recovered = recovered;
        TokenAdjustment = tokenAdjustment;
        Time = DateTime.Now;
    }

    public string Queue { get; }

    /// <summary>Tasks of dead workers put back on the queue.</summary>
    public long Recovered { get; }

    /// <summary>Tokens added (positive) or surplus tokens removed (negative).</summary>
    public long TokenAdjustment { get; }

    public DateTime Time { get; }
}
