using System;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Testing;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>One throwaway Redis for the Redis-backed tests; each test uses queue names of its own.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private static int _queues;
    private LocalRedisServer? _server;

    public LocalRedisServer Server => _server!;

    public DelayedConnection Connection { get; private set; } = null!;

    /// <summary>A raw client for looking at and tampering with keys directly.</summary>
    public IDatabase Db => Connection.Database;

    public async Task InitializeAsync()
    {
        _server = new LocalRedisServer();
        Connection = await DelayedConnection.ConnectAsync(_server.Configuration);
    }

    public Task DisposeAsync()
    {
        Connection.Dispose();
        _server?.Dispose();
        return Task.CompletedTask;
    }

    public DelayedQueue NewQueue(string prefix = "q") =>
        new DelayedQueue(Connection, $"{prefix}{Interlocked.Increment(ref _queues)}-{Guid.NewGuid():N}".Substring(0, 24));
}

[CollectionDefinition("redis")]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
}
