using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// A connection of its own for one waiter's BLPOP calls. Behind sentinels it is opened again on the primary they name
/// after a failover, before its next wait: a wait on the old primary would never see a task added since.
/// </summary>
public sealed class BlockingConnection : IDisposable
{
    private readonly SentinelPrimary? _sentinel;
    private readonly Func<EndPoint, Task<ConnectionMultiplexer>>? _open;
    private ConnectionMultiplexer _multiplexer;
    private EndPoint? _openedOn;

    internal BlockingConnection(ConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    private BlockingConnection(ConnectionMultiplexer multiplexer, EndPoint openedOn, SentinelPrimary sentinel, Func<EndPoint, Task<ConnectionMultiplexer>> open)
    {
        _multiplexer = multiplexer;
        _openedOn = openedOn;
        _sentinel = sentinel;
        _open = open;
    }

    /// <summary>Opens one on the primary <paramref name="sentinel"/> names now, with <paramref name="open"/>, and again on the next.</summary>
    internal static async Task<BlockingConnection> BehindSentinelsAsync(SentinelPrimary sentinel, Func<EndPoint, Task<ConnectionMultiplexer>> open)
    {
        var primary = sentinel.Primary;
        return new BlockingConnection(await open(primary).ConfigureAwait(false), primary, sentinel, open);
    }

    /// <summary>The database to wait on: on the current primary (one waiter calls this at a time).</summary>
    internal ValueTask<IDatabase> GetDatabaseAsync()
    {
        if (_sentinel is null || Equals(_sentinel.Primary, _openedOn)) return new ValueTask<IDatabase>(_multiplexer.GetDatabase());
        return new ValueTask<IDatabase>(ReopenAsync(_sentinel.Primary));
    }

    private async Task<IDatabase> ReopenAsync(EndPoint primary)
    {
        var next = await _open!(primary).ConfigureAwait(false);
        var old = Interlocked.Exchange(ref _multiplexer, next);
        _openedOn = primary;
        old.Dispose();
        return next.GetDatabase();
    }

    public void Dispose() => Volatile.Read(ref _multiplexer).Dispose();
}
