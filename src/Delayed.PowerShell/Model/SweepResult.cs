using System;

namespace Delayed;

/// <summary>One sweep of one queue by Start-DelayedSweeper.</summary>
public sealed class SweepResult
{
    internal SweepResult(string queue, long recovered, long tokenAdjustment, long lost = 0, long skipped = 0, long takenUntracked = 0)
    {
        TakenUntracked = takenUntracked;
        Lost = lost;
        Skipped = skipped;
        Queue = queue;
        Recovered = recovered;
        TokenAdjustment = tokenAdjustment;
        Time = DateTimeOffset.Now;
    }

    public string Queue { get; }

    /// <summary>Tasks of dead workers put back on the queue.</summary>
    public long Recovered { get; }

    /// <summary>Tokens added (positive) or surplus tokens removed (negative).</summary>
    public long TokenAdjustment { get; }

    /// <summary>Tasks whose workers died while running them too often: moved to the failed store as WorkerLost.</summary>
    public long Lost { get; }

    /// <summary>In-flight entries under worker ids the sweep cannot check (outside the queue's cluster slot).</summary>
    public long Skipped { get; }

    /// <summary>
    /// Tracked tasks (Add-DelayedTask -AsJob) found taken by a Python or Go worker, which keeps no records: they now end
    /// Disconnected, also when no job waits on them. Each sweep looks at the next part of the queue's tracked tasks.
    /// </summary>
    public long TakenUntracked { get; }

    public DateTimeOffset Time { get; }
}
