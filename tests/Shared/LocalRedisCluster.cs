using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Delayed.Testing;

/// <summary>
/// A throwaway three-node Redis Cluster on 127.0.0.1 (no replicas, no persistence), each node a
/// <see cref="LocalRedisServer"/> on a free port, its slots split evenly. Stopped on Dispose.
/// </summary>
public sealed class LocalRedisCluster : IDisposable
{
    private const int Slots = 16384;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "delayed-cluster-" + Guid.NewGuid().ToString("N"));
    private readonly LocalRedisServer[] _nodes;

    private LocalRedisCluster(LocalRedisServer[] nodes) => _nodes = nodes;

    /// <summary>Every node, so that a client finds the cluster from any of them.</summary>
    public string Configuration => string.Join(",", _nodes.Select(n => n.Configuration));

    public static async Task<LocalRedisCluster> StartAsync(int nodeCount = 3)
    {
        var cluster = new LocalRedisCluster(new LocalRedisServer[nodeCount]);
        try
        {
            Directory.CreateDirectory(cluster._directory);
            for (var i = 0; i < nodeCount; i++)
            {
                cluster._nodes[i] = new LocalRedisServer("--cluster-enabled", "yes",
                    "--cluster-config-file", Path.Combine(cluster._directory, $"nodes-{i}.conf"));
            }
            await cluster.FormAsync().ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task FormAsync()
    {
        // Each node on its own connection: a cluster client would refuse nodes that do not know each other yet.
        var connections = await Task.WhenAll(_nodes.Select(n =>
            ConnectionMultiplexer.ConnectAsync($"{n.Configuration},allowAdmin=true,connectRetry=5"))).ConfigureAwait(false);
        try
        {
            for (var i = 0; i < _nodes.Length; i++)
            {
                var first = Slots * i / _nodes.Length;
                var last = Slots * (i + 1) / _nodes.Length - 1;
                await Node(connections[i]).ExecuteAsync("CLUSTER", "ADDSLOTSRANGE", first, last).ConfigureAwait(false);
            }
            foreach (var other in _nodes.Skip(1))
                await Node(connections[0]).ExecuteAsync("CLUSTER", "MEET", "127.0.0.1", other.Port).ConfigureAwait(false);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!await AllOkAsync(connections).ConfigureAwait(false))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("The local Redis Cluster did not reach cluster_state:ok within 30 seconds.");
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var connection in connections) connection.Dispose();
        }
    }

    private static IServer Node(ConnectionMultiplexer connection) => connection.GetServer(connection.GetEndPoints()[0]);

    private static async Task<bool> AllOkAsync(ConnectionMultiplexer[] connections)
    {
        foreach (var connection in connections)
        {
            var info = (string)(await Node(connection).ExecuteAsync("CLUSTER", "INFO").ConfigureAwait(false))!;
            if (!info.Contains("cluster_state:ok")) return false;
            var known = info.Split('\n').FirstOrDefault(l => l.StartsWith("cluster_known_nodes:", StringComparison.Ordinal));
            if (known is null || int.Parse(known.Substring("cluster_known_nodes:".Length).Trim()) != connections.Length) return false;
        }
        return true;
    }
}
