using System;
using System.Collections.Concurrent;
using System.Threading.Tasks;
using Delayed.Core.Redis;

namespace Delayed.PowerShell.Connections;

/// <summary>
/// One connection per Redis configuration string in this process, shared by every queue object and
/// runspace; StackExchange.Redis multiplexes it and reconnects by itself. A failed connect is not kept.
/// </summary>
internal static class ConnectionCache
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<DelayedConnection>>> Connections = new(StringComparer.Ordinal);

    /// <summary>The configuration used when none is given: $env:DELAYED_REDIS, else localhost:6379.</summary>
    public static string DefaultConfiguration => DefaultIsConfigured ? Environment.GetEnvironmentVariable("DELAYED_REDIS")! : "localhost:6379";

    /// <summary>Whether $env:DELAYED_REDIS names the default server.</summary>
    public static bool DefaultIsConfigured => Environment.GetEnvironmentVariable("DELAYED_REDIS") is { Length: > 0 };

    /// <summary>The connection for a configuration if one is already open: tab completion never waits on a connect.</summary>
    public static DelayedConnection? TryGetOpen(string configuration) =>
        Connections.TryGetValue(configuration, out var entry) && entry.IsValueCreated && entry.Value.Status == System.Threading.Tasks.TaskStatus.RanToCompletion
            ? entry.Value.Result
            : null;

    /// <summary>The connection for a configuration, TLS settings and Sentinel service; shared only between equal ones.</summary>
    public static DelayedConnection Get(string configuration, TlsSettings? tls = null, string? sentinelService = null)
    {
        var key = tls is null && sentinelService is null ? configuration : $"{configuration}\n{tls?.Identity}\n{sentinelService}";
        var entry = Connections.GetOrAdd(key, _ => new Lazy<Task<DelayedConnection>>(() => DelayedConnection.ConnectAsync(configuration, tls, sentinelService)));
        try
        {
            return entry.Value.GetAwaiter().GetResult();
        }
        catch
        {
            Connections.TryRemove(key, out _);
            throw;
        }
    }
}
