using System;
using System.Linq;
using System.Net.Sockets;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// After a first connect failed, the likeliest mistakes with Sentinel, which the client reports only as "not possible
/// to connect": a sentinel given as a Redis server, a Redis server given as a sentinel, a service name the sentinels do
/// not monitor.
/// </summary>
internal static class WrongKindOfServer
{
    /// <summary>What is wrong and what to give instead, as sentences; null when none of these is the cause.</summary>
    public static async Task<string?> ExplainAsync(ConfigurationOptions options)
    {
        // Nothing listens, or the host does not answer: that is the cause, and the probes below would wait out their timeouts.
        if (!await AnyListensAsync(options).ConfigureAwait(false)) return null;
        var probe = options.Clone();
        probe.AbortOnConnectFail = true;
        probe.ConnectRetry = 1;
        var (sentinel, monitored) = await SentinelAsync(probe).ConfigureAwait(false);
        var service = options.ServiceName;
        if (string.IsNullOrEmpty(service))
        {
            return sentinel is null ? null
                : $"{sentinel} is a Redis Sentinel, not a Redis server ({Listed(monitored)}). Give the name of the primary it " +
                  "monitors with -SentinelService (or serviceName= in the configuration string), or the address of the Redis server itself.";
        }
        if (sentinel is not null)
        {
            return monitored.Contains(service, StringComparer.Ordinal) ? null
                : $"the sentinel at {sentinel} monitors no primary named '{service}' ({Listed(monitored)}). Give one of those names, " +
                  "or add the primary to the sentinels (sentinel monitor <name> <host> <port> <quorum> in sentinel.conf).";
        }
        probe.ServiceName = null;
        try
        {
            using var plain = await ConnectionMultiplexer.ConnectAsync(probe).ConfigureAwait(false);
            var redis = plain.GetServers().FirstOrDefault(server => server.IsConnected && server.ServerType != ServerType.Sentinel);
            return redis is null ? null
                : $"{DelayedConnection.Format.ToString(redis.EndPoint)} is a Redis server, not a Redis Sentinel. Give the sentinels' addresses with -SentinelService, " +
                  "or leave -SentinelService (and serviceName=) out to use this server itself.";
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>The first sentinel among the configured servers that answers, and the names of the primaries it monitors.</summary>
    private static async Task<(string? Sentinel, string[] Monitored)> SentinelAsync(ConfigurationOptions probe)
    {
        try
        {
            using var sentinels = await ConnectionMultiplexer.SentinelConnectAsync(probe).ConfigureAwait(false);
            var sentinel = sentinels.GetServers().FirstOrDefault(server => server.IsConnected && server.ServerType == ServerType.Sentinel);
            if (sentinel is null) return (null, Array.Empty<string>());
            var names = (await sentinel.SentinelMastersAsync().ConfigureAwait(false))
                .Select(master => master.FirstOrDefault(pair => pair.Key == "name").Value)
                .Where(name => !string.IsNullOrEmpty(name)).ToArray();
            return (DelayedConnection.Format.ToString(sentinel.EndPoint), names);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return (null, Array.Empty<string>());
        }
    }

    private static async Task<bool> AnyListensAsync(ConfigurationOptions options)
    {
        foreach (var endpoint in options.EndPoints)
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                var connect = socket.ConnectAsync(endpoint);
                if (await Task.WhenAny(connect, Task.Delay(Math.Min(1000, options.ConnectTimeout))).ConfigureAwait(false) == connect && socket.Connected) return true;
                _ = connect.ContinueWith(t => t.Exception, TaskScheduler.Default); // observed if it fails later
            }
            catch (SocketException)
            {
            }
        }
        return false;
    }

    private static string Listed(string[] monitored) =>
        monitored.Length == 0 ? "it monitors no primary" : "it monitors " + string.Join(", ", monitored.Select(name => $"'{name}'"));
}
