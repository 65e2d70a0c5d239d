using System;
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
    private readonly Func<long>? _primaryChanges;
    private readonly Func<Task<ConnectionMultiplexer>>? _reopen;
    private ConnectionMultiplexer _multiplexer;
    private long _openedAt;

    internal BlockingConnection(ConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    /// <param name="multiplexer">The connection to the primary the sentinels name now.</param>
    /// <param name="primaryChanges">How many times they have named another one (<see cref="DelayedConnection.PrimaryChanges"/>).</param>
    /// <param name="reopen">Connects to the primary they name then.</param>
    internal BlockingConnection(ConnectionMultiplexer multiplexer, Func<long> primaryChanges, Func<Task<ConnectionMultiplexer>> reopen)
    {
        _multiplexer = multiplexer;
        _primaryChanges = primaryChanges;
        _openedAt = primaryChanges();
        _reopen = reopen;
    }

    /// <summary>The database to wait on: on the current primary (one waiter calls this at a time).</summary>
    internal ValueTask<IDatabase> GetDatabaseAsync()
    {
        if (_primaryChanges is null || _primaryChanges() == Volatile.Read(ref _openedAt)) return new ValueTask<IDatabase>(_multiplexer.GetDatabase());
        return new ValueTask<IDatabase>(ReopenAsync());
    }

    private async Task<IDatabase> ReopenAsync()
    {
        var changes = _primaryChanges!();
        var next = await _reopen!().ConfigureAwait(false);
        var old = Interlocked.Exchange(ref _multiplexer, next);
        Volatile.Write(ref _openedAt, changes);
        old.Dispose();
        return next.GetDatabase();
    }

    public void Dispose() => Volatile.Read(ref _multiplexer).Dispose();
}
