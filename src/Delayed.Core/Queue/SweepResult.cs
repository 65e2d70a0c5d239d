namespace Delayed.Core.Queue;

/// <summary>What one sweep of one queue did (the recovered count apart from the token repair).</summary>
public sealed class SweepResult
{
    public SweepResult(string queue, long recovered, long tokenAdjustment, long skipped = 0, long lost = 0, long takenUntracked = 0, string? untrackedLookError = null)
    {
        TakenUntracked = takenUntracked;
        UntrackedLookError = untrackedLookError;
        Skipped = skipped;
        Lost = lost;
        Queue = queue;
        Recovered = recovered;
        TokenAdjustment = tokenAdjustment;
    }

    public string Queue { get; }

    /// <summary>Tasks of dead workers moved back to the queue.</summary>
    public long Recovered { get; }

    /// <summary>Tokens added (positive) or surplus tokens removed (negative).</summary>
    public long TokenAdjustment { get; }

    /// <summary>In-flight entries the sweep could not check: worker ids outside the queue's cluster slot.</summary>
    public long Skipped { get; }

    /// <summary>Tasks whose workers died too often while running them, moved to the failed store as WorkerLost.</summary>
    public long Lost { get; }

    /// <summary>Tracked tasks found taken by a worker that keeps no records (Python, Go): their records now say so.</summary>
    public long TakenUntracked { get; }

    /// <summary>
    /// Why the look for those failed (Redis before 6.0.6 has no LPOS; an account without HSCAN or LPOS), or null. The rest
    /// of the sweep was done all the same.
    /// </summary>
    public string? UntrackedLookError { get; }

    public override string ToString() => $"{Queue}: {Recovered} recovered, {Lost} lost, {Skipped} skipped, {TakenUntracked} taken untracked, token adjustment {TokenAdjustment:+0;-0;0}";
}
