using System;
using System.Linq;
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

    /// <summary>How many clients wait in a blocking command (BLPOP) on the server now: a test's premise that a worker really waits.</summary>
    public async Task<long> BlockedClientsAsync()
    {
        var info = (string)(await Db.ExecuteAsync("INFO", "clients"))!;
        foreach (var line in info.Split('\n'))
            if (line.StartsWith("blocked_clients:", StringComparison.Ordinal))
                return long.Parse(line.Substring("blocked_clients:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException("INFO clients has no blocked_clients line.");
    }

    /// <summary>The lines of CLIENT LIST, asked asynchronously (a test whose worker keeps the thread pool busy).</summary>
    public async Task<string[]> ClientLinesAsync() => ((string)(await Db.ExecuteAsync("CLIENT", "LIST"))!).Split('\n');

    /// <summary>The CLIENT LIST line of the connection named <paramref name="name"/> (a worker slot's own, named as its worker id), or null.</summary>
    public string? ClientNamed(string name) => ClientNamed(Db, name);

    /// <summary>The same, on the server <paramref name="db"/> reaches (another fixture's, e.g. a TLS server).</summary>
    public static string? ClientNamed(IDatabase db, string name) =>
        db.Execute("CLIENT", "LIST").ToString()!.Split('\n').FirstOrDefault(line => line.Contains($" name={name} ", StringComparison.Ordinal));

    /// <summary>The client id in a CLIENT LIST line, for CLIENT KILL ID.</summary>
    public static string IdOf(string clientLine) => clientLine.Split(' ').First(field => field.StartsWith("id=", StringComparison.Ordinal)).Substring(3);

    /// <summary>How many times the server has run these commands (INFO commandstats), for a test that counts a worker's calls.</summary>
    public async Task<long> CommandCallsAsync(params string[] commands)
    {
        var info = (string)(await Db.ExecuteAsync("INFO", "commandstats"))!;
        long calls = 0;
        foreach (var line in info.Split('\n'))
        {
            foreach (var command in commands)
            {
                var prefix = "cmdstat_" + command + ":calls=";
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                    calls += long.Parse(line.Substring(prefix.Length).Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return calls;
    }

    public DelayedQueue NewQueue(string prefix = "q") =>
        new DelayedQueue(Connection, $"{prefix}{Interlocked.Increment(ref _queues)}-{Guid.NewGuid():N}".Substring(0, 24));
}

[CollectionDefinition("redis")]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
}
