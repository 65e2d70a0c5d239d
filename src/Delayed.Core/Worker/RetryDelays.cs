using System;
using System.Threading;

namespace Delayed.Core.Worker;

/// <summary>Exponential back-off with full jitter: a random wait between 0 and base × 2^(n−1), capped.</summary>
public static class RetryDelays
{
    private static readonly ThreadLocal<Random> Random = new(() => new Random(Guid.NewGuid().GetHashCode()));

    /// <summary>The wait before run <paramref name="attempt"/> + 1, after <paramref name="attempt"/> (from 1) failed.</summary>
    public static TimeSpan Next(long attempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        // Stryker disable once Equality : a base of zero gives a ceiling of zero below as well; this only skips the work.
        if (baseDelay <= TimeSpan.Zero) return TimeSpan.Zero;
        var ceiling = Ceiling(attempt, baseDelay, maxDelay);
        return TimeSpan.FromTicks((long)(Random.Value!.NextDouble() * ceiling.Ticks));
    }

    /// <summary>The largest wait after failed attempt <paramref name="attempt"/>: base × 2^(attempt−1), at most <paramref name="maxDelay"/>.</summary>
    public static TimeSpan Ceiling(long attempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 40);
        var ticks = baseDelay.Ticks * Math.Pow(2, exponent);
        // Stryker disable once Equality : at equality both branches give the same time.
        return ticks >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
