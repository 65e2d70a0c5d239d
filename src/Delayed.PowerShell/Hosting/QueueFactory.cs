using System;
using Delayed.Core.Queue;

namespace Delayed.PowerShell.Hosting;

/// <summary>Makes queue objects over the shared connections.</summary>
internal static class QueueFactory
{
    public static readonly TimeSpan DefaultDequeueTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultKeepAliveTimeout = TimeSpan.FromSeconds(60);

    public static Queue Create(string name, string redis, TimeSpan? dequeueTimeout, TimeSpan? keepAliveTimeout)
    {
        var dequeue = dequeueTimeout ?? DefaultDequeueTimeout;
        var keepAlive = keepAliveTimeout ?? DefaultKeepAliveTimeout;
        if (dequeue <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(dequeueTimeout), dequeue, "The dequeue timeout must be positive: it bounds how long an idle worker takes to notice a stop.");
        if (keepAlive < TimeSpan.FromSeconds(2)) throw new ArgumentOutOfRangeException(nameof(keepAliveTimeout), keepAlive, "The keep-alive timeout must be at least 2 seconds.");
        return new Queue(new DelayedQueue(ConnectionCache.Get(redis), name), dequeue, keepAlive);
    }
}
