using System;
using System.Threading;

namespace Delayed.Core.Redis;

/// <summary>
/// The rest of one of the module's own connections after a failure (<see cref="DirectConnection"/>,
/// <see cref="PipelinedEnqueueConnection"/>): for <see cref="DirectConnection.ReopenInterval"/> its calls go through the
/// multiplexer, and each rest is counted as a fallback.
/// </summary>
internal sealed class ConnectionRest
{
    private long _untilTicks;

    /// <summary>Whether the connection rests now; the clock is read only after a failure, not on every call.</summary>
    public bool Active => Volatile.Read(ref _untilTicks) is var until and not 0 && DateTime.UtcNow.Ticks < until;

    /// <summary>Starts a rest, counted under the queue served and the use (claims, enqueue).</summary>
    public void Begin(string queue, string use)
    {
        Volatile.Write(ref _untilTicks, (DateTime.UtcNow + DirectConnection.ReopenInterval).Ticks);
        Telemetry.DelayedMetrics.DirectConnectionFellBack(queue, use);
    }
}
