using System;
using Delayed.Core.Queue;

namespace Delayed;

/// <summary>A queue on a Redis server, as New-DelayedQueue returns it. Shows no password.</summary>
public sealed class Queue
{
    internal Queue(DelayedQueue engine, TimeSpan dequeueTimeout, TimeSpan keepAliveTimeout)
    {
        Engine = engine;
        DequeueTimeout = dequeueTimeout;
        KeepAliveTimeout = keepAliveTimeout;
    }

    internal DelayedQueue Engine { get; }

    public string Name => Engine.Name;

    /// <summary>The Redis server: endpoints and database, never the password.</summary>
    public string Redis => Engine.Connection.DisplayName;

    public string TaskKey => Engine.Keys.Tasks;

    public string TokenKey => Engine.Keys.Tokens;

    public string ProcessingKey => Engine.Keys.Processing;

    public TimeSpan DequeueTimeout { get; }

    public TimeSpan KeepAliveTimeout { get; }

    public override string ToString() => $"{Name} on {Redis}";
}
