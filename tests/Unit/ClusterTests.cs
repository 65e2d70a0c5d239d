using System;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Delayed.Testing;
using Xunit;

namespace Delayed.Tests;

/// <summary>One throwaway three-node Redis Cluster for the cluster tests.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private LocalRedisCluster? _cluster;

    public DelayedConnection Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _cluster = await LocalRedisCluster.StartAsync();
        Connection = await DelayedConnection.ConnectAsync(_cluster.Configuration);
    }

    public Task DisposeAsync()
    {
        Connection?.Dispose();
        _cluster?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>A queue on a three-node Redis Cluster: every script and transaction stays in the slot of its hash tag.</summary>
public sealed class ClusterTests : IClassFixture<ClusterFixture>
{
    private readonly DelayedConnection _connection;

    public ClusterTests(ClusterFixture cluster) => _connection = cluster.Connection;

    [Fact]
    public async Task AHashTaggedQueueEnqueuesRunsSweepsAndIsInspected()
    {
        Assert.True(_connection.IsCluster);
        var queue = new DelayedQueue(_connection, "{jobs}");
        var tasks = Enumerable.Range(0, 50).Select(i => TaskEncoder.EncodePython("m:f", new object[] { i }, null, 0)).ToList();
        await queue.EnqueueAsync(tasks.Take(49).ToList());
        await queue.EnqueueAsync(tasks[49]);

        // A task held by a worker that is gone (no liveness key), as a crash leaves it.
        var orphan = TaskEncoder.EncodePython("m:orphan", null, null, 0);
        await _connection.Database.HashSetAsync(queue.Keys.Processing, "{jobs}0123456789abcdef0123456789abcdef", orphan);
        Assert.Single(await queue.GetInFlightAsync());
        var sweep = await queue.SweepAsync();
        Assert.Equal(1, sweep.Recovered);
        Assert.Equal(51, (await queue.GetStatusAsync()).Length);

        var ran = new System.Collections.Concurrent.ConcurrentBag<string>();
        var worker = new DelayedWorker(queue, new DelegateRegistry()
            .Add("m:f", c => ran.Add("f" + c.Task.Arguments[0]))
            .Add("m:orphan", _ => ran.Add("orphan")), new WorkerOptions
        {
            Concurrency = 2,
            StopWhenEmpty = true,
            DequeueTimeout = TimeSpan.FromMilliseconds(100),
        });
        var summary = await worker.RunAsync();

        Assert.Equal(51, summary.Succeeded);
        Assert.Equal(51, ran.Distinct().Count());
        Assert.All(worker.WorkerIds, id => Assert.StartsWith("{jobs}", id)); // in the queue's slot
        var status = await queue.GetStatusAsync();
        Assert.Equal((0L, 0L, 0L), (status.Length, status.Tokens, status.InFlight));
    }

    [Fact]
    public async Task OneWorkerServesSeveralQueuesOfOneHashTag_AndRefusesQueuesOfDifferentTags()
    {
        var high = new DelayedQueue(_connection, "{multi}high");
        var low = new DelayedQueue(_connection, "{multi}low");
        await low.EnqueueAsync(TaskEncoder.EncodePython("m:f", new object[] { "low" }, null, 0));
        await high.EnqueueAsync(TaskEncoder.EncodePython("m:f", new object[] { "high" }, null, 0));
        var ran = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var summary = await new DelayedWorker(new[] { high, low }, new DelegateRegistry().Add("m:f", c => ran.Enqueue((string)c.Task.Arguments[0]!)),
            new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(2, summary.Succeeded);
        Assert.Equal(new[] { "high", "low" }, ran);

        var other = new DelayedQueue(_connection, "{other}low");
        var e = Assert.Throws<ArgumentException>(() => new DelayedWorker(new[] { high, other }, new DelegateRegistry()));
        Assert.Contains("share a hash tag", e.Message);
    }

    [Fact]
    public async Task ASweepSkipsAndCountsAWorkerIdOutsideTheSlot_AndRecoversTheRestWithTheirTokens()
    {
        var queue = new DelayedQueue(_connection, "{probe}");
        // A decimal id as Python and Go workers use. Slots are fixed (CRC16) and split evenly over the three
        // nodes, so "12623" (slot 13820, third node) and "{probe}" (slot 5258, first node) never share one.
        await _connection.Database.HashSetAsync(queue.Keys.Processing, "12623", TaskEncoder.EncodePython("m:orphan", null, null, 0));
        var dead = "{probe}" + new string('0', 32);
        await _connection.Database.HashSetAsync(queue.Keys.Processing, dead, TaskEncoder.EncodePython("m:recovered", null, null, 0));
        var sweep = await queue.SweepAsync();
        Assert.Equal((1L, 1L, 1L), (sweep.Skipped, sweep.Recovered, sweep.TokenAdjustment));
        Assert.True(await _connection.Database.HashExistsAsync(queue.Keys.Processing, "12623")); // nothing lost
        Assert.Equal(1, await _connection.Database.ListLengthAsync(queue.Keys.Tokens)); // the recovered task has its token
        await queue.ClearAsync();
    }

    [Fact]
    public void AQueueWithoutAHashTagIsRefusedWithTheNameToUseInstead()
    {
        var error = Assert.Throws<ArgumentException>(() => new DelayedQueue(_connection, "jobs"));
        Assert.Contains("is a cluster", error.Message);
        Assert.Contains("'{jobs}'", error.Message);
    }
}
