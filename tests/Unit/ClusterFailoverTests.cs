using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Delayed.Testing;
using Xunit;

namespace Delayed.Tests;

/// <summary>A queue on a Redis Cluster whose primary fails over to its replica (a manual failover: nothing is lost).</summary>
public sealed class ClusterFailoverTests
{
    [Fact]
    public async Task RightAfterAFailoverEnqueuesAndReadsSucceed_AndAWorkerStartedBeforeRunsEveryTask()
    {
        using var cluster = await LocalRedisCluster.StartAsync(replicaFor: "{jobs}");
        using var connection = await DelayedConnection.ConnectAsync(cluster.Configuration);
        var queue = new DelayedQueue(connection, "{jobs}");
        byte[] Task(int n) => TaskEncoder.EncodePython("m:f", new object[] { n }, null, 0);
        await queue.EnqueueAsync(Enumerable.Range(0, 10).Select(Task).ToList());
        var ran = new ConcurrentDictionary<long, int>();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:f", c => { ran.AddOrUpdate((long)c.Task.Arguments[0]!, 1, (_, n) => n + 1); }),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(200), InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(500) });
        var run = worker.RunAsync();
        await Eventually.True(() => ran.Count == 10, "the worker to run the tasks added before the failover");

        await cluster.FailOverAsync();
        // The client takes the promoted replica for a replica until it next asks the servers their roles: a minute by
        // default, in which every enqueue failed (EXECABORT). Now the first one succeeds, at most seconds later.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await queue.EnqueueAsync(new[] { Task(10) });
        Assert.True(clock.Elapsed < DelayedQueue.ClusterSettling, $"the first enqueue after the failover took {clock.Elapsed}");
        for (var i = 11; i < 30; i++) await queue.EnqueueAsync(new[] { Task(i) });
        Assert.Empty(await queue.GetFailedAsync());
        Assert.Equal(0, await queue.ClearFailedAsync());

        await Eventually.True(() => ran.Count == 30 || run.IsCompleted, "the worker to run every task added after the failover", 60, () => $"{ran.Count} of 30 ran");
        Assert.False(run.IsCompleted, "the worker stopped on the failover");
        worker.RequestStop();
        await run;
        Assert.All(ran.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, (await queue.GetStatusAsync()).Length);
    }
}
