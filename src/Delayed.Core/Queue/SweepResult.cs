namespace Delayed.Core.Queue;

/// <summary>What one sweep of one queue did (the recovered count apart from the token repair, D5).</summary>
public sealed class SweepResult
{
    public SweepResult(string queue, long recovered, long tokenAdjustment)
    {
        Queue = queue;
        Recovered = recovered;
        TokenAdjustment = tokenAdjustment;
    }

    public string Queue { get; }

    /// <summary>Tasks of dead workers moved back to the queue.</summary>
    public long Recovered { get; }

    /// <summary>Tokens added (positive) or surplus tokens removed (negative).</summary>
    public long TokenAdjustment { get; }

    public override string ToString() => $"{Queue}: {Recovered} recovered, token adjustment {TokenAdjustment:+0;-0;0}";
}
