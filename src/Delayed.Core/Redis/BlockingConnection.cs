using System;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>A connection of its own for one waiter's BLPOP calls.</summary>
public sealed class BlockingConnection : IDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;

    internal BlockingConnection(ConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    internal IDatabase Database => _multiplexer.GetDatabase();

    public void Dispose() => _multiplexer.Dispose();
}
