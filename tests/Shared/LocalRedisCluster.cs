using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace Delayed.Testing;

/// <summary>
/// A throwaway Redis Cluster on 127.0.0.1 (three primaries by default, no persistence), each node a
/// <see cref="LocalRedisServer"/> on a free port, the primaries' slots split evenly; optionally one replica of the
/// primary that holds a given key, to fail over to. Stopped on Dispose.
/// </summary>
public sealed class LocalRedisCluster : IDisposable
{
    private const int Slots = 16384;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "delayed-cluster-" + Guid.NewGuid().ToString("N"));
    private readonly LocalRedisServer[] _nodes;
    private LocalRedisServer? _replica;

    private LocalRedisCluster(LocalRedisServer[] nodes) => _nodes = nodes;

    /// <summary>Every primary at the start, so that a client finds the cluster from any of them.</summary>
    public string Configuration => string.Join(",", _nodes.Select(n => n.Configuration));

    /// <param name="nodeCount">How many primaries.</param>
    /// <param name="replicaFor">A key whose primary gets a replica (<see cref="FailOverAsync"/>); none when null.</param>
    public static async Task<LocalRedisCluster> StartAsync(int nodeCount = 3, string? replicaFor = null)
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
            if (replicaFor is not null) await cluster.AddReplicaAsync(replicaFor).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A manual failover (CLUSTER FAILOVER on the replica: the primary stops taking writes, the replica catches up and
    /// takes its slots, nothing is lost); returns once every primary names the replica as the slots' owner.
    /// </summary>
    public async Task FailOverAsync()
    {
        var replica = _replica ?? throw new InvalidOperationException("The cluster was started without a replica.");
        using var connection = await ConnectionMultiplexer.ConnectAsync($"{replica.Configuration},allowAdmin=true").ConfigureAwait(false);
        var id = (string)(await Node(connection).ExecuteAsync("CLUSTER", "MYID").ConfigureAwait(false))!;
        await Node(connection).ExecuteAsync("CLUSTER", "FAILOVER").ConfigureAwait(false);
        await WaitUntilAsync(async () =>
        {
            foreach (var node in _nodes.Append(replica))
            {
                using var each = await ConnectionMultiplexer.ConnectAsync($"{node.Configuration},allowAdmin=true").ConfigureAwait(false);
                var nodes = (string)(await Node(each).ExecuteAsync("CLUSTER", "NODES").ConfigureAwait(false))!;
                var line = nodes.Split('\n').FirstOrDefault(l => l.StartsWith(id, StringComparison.Ordinal));
                if (line is null || !line.Contains("master")) return false;
            }
            return true;
        }, "every node to name the replica as the primary").ConfigureAwait(false);
    }

    public void Dispose()
    {
        _replica?.Dispose();
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

    private async Task AddReplicaAsync(string key)
    {
        _replica = new LocalRedisServer("--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_directory, "nodes-replica.conf"));
        using var replica = await ConnectionMultiplexer.ConnectAsync($"{_replica.Configuration},allowAdmin=true,connectRetry=5").ConfigureAwait(false);
        using var first = await ConnectionMultiplexer.ConnectAsync($"{_nodes[0].Configuration},allowAdmin=true").ConfigureAwait(false);
        var slot = (long)(await Node(first).ExecuteAsync("CLUSTER", "KEYSLOT", key).ConfigureAwait(false));
        var owner = _nodes[(int)(slot * _nodes.Length / Slots)];
        using var primary = await ConnectionMultiplexer.ConnectAsync($"{owner.Configuration},allowAdmin=true").ConfigureAwait(false);
        var primaryId = (string)(await Node(primary).ExecuteAsync("CLUSTER", "MYID").ConfigureAwait(false))!;
        await Node(replica).ExecuteAsync("CLUSTER", "MEET", "127.0.0.1", owner.Port).ConfigureAwait(false);
        // REPLICATE needs the primary known to the replica first.
        await WaitUntilAsync(async () => ((string)(await Node(replica).ExecuteAsync("CLUSTER", "NODES").ConfigureAwait(false))!).Contains(primaryId),
            "the replica to meet its primary").ConfigureAwait(false);
        await Node(replica).ExecuteAsync("CLUSTER", "REPLICATE", primaryId).ConfigureAwait(false);
        await WaitUntilAsync(async () => ((string)(await Node(replica).ExecuteAsync("INFO", "replication").ConfigureAwait(false))!).Contains("master_link_status:up"),
            "the replica to follow its primary").ConfigureAwait(false);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited 30 s for {what}, in vain.");
            await Task.Delay(50).ConfigureAwait(false);
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
