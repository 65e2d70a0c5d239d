using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// Which server the sentinels name as the primary of a service, followed through failovers: told at once by their
/// +switch-master announcement, and asked again every <see cref="PollInterval"/> in case an announcement was missed
/// (a sentinel restarted, its subscription was lost).
/// </summary>
/// <remarks>
/// Why not StackExchange.Redis's own sentinel support: its multiplexer knows the primary and the replicas, and on a
/// failover between servers it already knows it reconfigures nothing (2.8: only a primary at a new address is followed).
/// The old primary, which still takes writes until the sentinels make it a replica seconds later, and the promoted one
/// are then both primaries to it, and it spreads commands between them: what went to the old one is gone once it
/// becomes a replica. <see cref="DelayedConnection"/> therefore connects to the named primary alone, and to the next one
/// when this says so (README, "Redis Sentinel").
/// </remarks>
internal sealed class SentinelPrimary : IDisposable
{
    internal static TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether to subscribe to the sentinels' announcements (off in a test of the poll alone).</summary>
    internal static bool HearAnnouncements { get; set; } = true;

    private readonly ConnectionMultiplexer _sentinels;
    private readonly string _service;
    private readonly Timer _poll;
    private readonly SemaphoreSlim _asking = new(1, 1);
    private EndPoint _primary;
    private int _disposed;

    private SentinelPrimary(ConnectionMultiplexer sentinels, string service, EndPoint primary)
    {
        _sentinels = sentinels;
        _service = service;
        _primary = primary;
        _poll = new Timer(_ => _ = AskAsync(), null, PollInterval, PollInterval);
        if (!HearAnnouncements) return;
        _sentinels.GetSubscriber().Subscribe(RedisChannel.Literal("+switch-master"), (channel, message) =>
        {
            // "<service> <old ip> <old port> <new ip> <new port>": only the service's name is taken from it; the primary
            // is asked for, so that an announcement and the poll never disagree.
            var text = (string?)message;
            if (text is not null && text.Split(' ')[0] == _service) _ = AskAsync();
        });
    }

    /// <summary>The primary as the sentinels last named it.</summary>
    public EndPoint Primary => Volatile.Read(ref _primary);

    /// <summary>Raised, on a thread of the pool, with the new primary when the sentinels name another server.</summary>
    public event Action<EndPoint>? Switched;

    /// <summary>Connects to the sentinels of <paramref name="options"/> and asks them for the primary of its service.</summary>
    /// <exception cref="RedisConnectionException">No sentinel answers, or none knows the service.</exception>
    public static async Task<SentinelPrimary> ConnectAsync(ConfigurationOptions options)
    {
        var service = options.ServiceName ?? throw new ArgumentException("No service name is given.", nameof(options));
        var sentinels = await ConnectionMultiplexer.SentinelConnectAsync(options).ConfigureAwait(false);
        try
        {
            var primary = await NamedPrimaryAsync(sentinels, service).ConfigureAwait(false)
                ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect,
                    $"No sentinel names a primary for the service '{service}'.");
            return new SentinelPrimary(sentinels, service, primary);
        }
        catch
        {
            sentinels.Dispose();
            throw;
        }
    }

    /// <summary>The options of <paramref name="options"/> for a connection to <paramref name="primary"/> alone, not through the sentinels.</summary>
    public static ConfigurationOptions ForPrimary(ConfigurationOptions options, EndPoint primary)
    {
        var direct = options.Clone();
        direct.ServiceName = null;
        direct.EndPoints.Clear();
        direct.EndPoints.Add(primary);
        return direct;
    }

    private async Task AskAsync()
    {
        if (Volatile.Read(ref _disposed) != 0 || !await _asking.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            var named = await NamedPrimaryAsync(_sentinels, _service).ConfigureAwait(false);
            if (named is null || named.Equals(Primary) || Volatile.Read(ref _disposed) != 0) return;
            Volatile.Write(ref _primary, named);
            Switched?.Invoke(named);
        }
#pragma warning disable CA1031 // A timer's callback: the next poll asks again; nothing here may end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            _asking.Release();
        }
    }

    /// <summary>The primary the first sentinel that answers names; null when none does.</summary>
    private static async Task<EndPoint?> NamedPrimaryAsync(ConnectionMultiplexer sentinels, string service)
    {
        foreach (var endpoint in sentinels.GetEndPoints())
        {
            var server = sentinels.GetServer(endpoint);
            if (!server.IsConnected) continue;
            try
            {
                if (await server.SentinelGetMasterAddressByNameAsync(service).ConfigureAwait(false) is { } primary) return primary;
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // The next sentinel may answer.
            }
        }
        return null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _poll.Dispose();
        _sentinels.Dispose();
    }
}
