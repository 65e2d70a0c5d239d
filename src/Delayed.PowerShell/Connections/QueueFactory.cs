using System;
using System.Collections.Generic;
using System.Linq;
using Delayed.Core.Queue;

namespace Delayed.PowerShell.Connections;

/// <summary>Makes queue objects over the shared connections.</summary>
internal static class QueueFactory
{
    public static readonly TimeSpan DefaultDequeueTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultKeepAliveTimeout = TimeSpan.FromSeconds(60);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Redis, string Name), bool> Known = new();

    /// <summary>The queue names this process has used on a server, for tab completion.</summary>
    public static IEnumerable<string> KnownNames(string redis) => Known.Keys.Where(k => k.Redis == redis).Select(k => k.Name);

    public static Queue Create(string name, string redis, TimeSpan? dequeueTimeout, TimeSpan? keepAliveTimeout, Core.Redis.TlsSettings? tls = null, string? sentinelService = null)
    {
        Core.Protocol.QueueKeys.CheckName(name); // before connecting: a bad name is refused without a server
        var dequeue = dequeueTimeout ?? DefaultDequeueTimeout;
        var keepAlive = keepAliveTimeout ?? DefaultKeepAliveTimeout;
        // The worker's rules, checked here already so that New-DelayedQueue refuses them rather than the worker later.
        Core.Worker.WorkerOptions.CheckDequeueTimeout(dequeue);
        Core.Worker.WorkerOptions.CheckKeepAliveTimeout(keepAlive);
        var queue = new Queue(new DelayedQueue(ConnectionCache.Get(redis, tls, sentinelService), name), dequeue, keepAlive);
        Known[(redis, name)] = true;
        return queue;
    }

    /// <summary>Queues of found names on a server (FindQueueNamesAsync), leaving out keys that only look like a queue's (a name a queue may not have).</summary>
    public static IReadOnlyList<Queue> FromNames(IEnumerable<string> names, string redis)
    {
        var queues = new List<Queue>();
        foreach (var name in names)
        {
            try
            {
                queues.Add(Create(name, redis, null, null));
            }
            catch (ArgumentException)
            {
                // not a queue after all
            }
        }
        return queues;
    }
}
