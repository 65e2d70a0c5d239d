using System.Collections.Generic;

namespace Delayed.Core.Scheduling;

/// <summary>What one promotion did and found: scheduled tasks moved, the server's clock, and recurring ticks now due.</summary>
public sealed class Promotion
{
    /// <summary>Most due ticks one promotion returns; the rest come with the next.</summary>
    internal const int TickBatch = 100;

    public Promotion(long moved, long serverNowMs, IReadOnlyList<DueTick> dueTicks)
    {
        Moved = moved;
        ServerNowMs = serverNowMs;
        DueTicks = dueTicks;
    }

    public long Moved { get; }

    public long ServerNowMs { get; }

    public IReadOnlyList<DueTick> DueTicks { get; }
}
