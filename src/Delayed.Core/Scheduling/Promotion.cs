using System;
using System.Collections.Generic;

namespace Delayed.Core.Scheduling;

/// <summary>What one promotion did and found: scheduled tasks moved, the server's clock, and recurring ticks now due.</summary>
public sealed class Promotion
{
    /// <summary>Most due ticks one promotion returns; the rest come with the next.</summary>
    internal const int TickBatch = 100;

    public Promotion(long moved, long serverNowMs, IReadOnlyList<DueTick> dueTicks, long? soonestDueMs = null)
    {
        SoonestDueMs = soonestDueMs;
        Moved = moved;
        ServerNowMs = serverNowMs;
        DueTicks = dueTicks;
    }

    public long Moved { get; }

    public long ServerNowMs { get; }

    public IReadOnlyList<DueTick> DueTicks { get; }

    /// <summary>The soonest due time still to come of a scheduled task or a recurring run (unix ms, server clock); null for none.</summary>
    public long? SoonestDueMs { get; }

    /// <summary>How long until that soonest due time, by the server's clock; null for none.</summary>
    public TimeSpan? UntilSoonestDue => SoonestDueMs is { } due ? TimeSpan.FromMilliseconds(due - ServerNowMs) : null;
}
