using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Delayed.Testing;
using Xunit;

namespace Delayed.Tests;

/// <summary>A queue reached through Redis Sentinel follows a failover: the worker goes on with the new primary and no task is lost.</summary>
public sealed class SentinelTests
{
    [Fact]
    public async Task AWorkerGoesOnThroughAFailover_AndEveryTaskRuns()
    {
        const int count = 3000;
        using var setup = await LocalRedisSentinel.StartAsync();
        var firstPrimary = await setup.PrimaryPortAsync();
        using var connection = await DelayedConnection.ConnectAsync(setup.SentinelConfiguration, sentinelService: LocalRedisSentinel.ServiceName);
        Assert.Contains(LocalRedisSentinel.ServiceName, connection.DisplayName);
        var queue = new DelayedQueue(connection, "failover");
        await queue.EnqueueAsync(Enumerable.Range(0, count).Select(i => TaskEncoder.EncodePython("m:f", new object[] { i }, null, 0)).ToList());
        // Redis replicates asynchronously: a write the primary took but had not passed on when it failed is gone with it.
        // The test is about what the worker does, so the tasks are all on the replica before the failover starts.
        await setup.WaitForReplicaAsync();

        var ran = new ConcurrentDictionary<long, int>();
        var log = new EventLog();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:f", async c =>
        {
            ran.AddOrUpdate((long)c.Task.Arguments[0]!, 1, (_, n) => n + 1);
            await Task.Delay(2);
        }), new WorkerOptions
        {
            Concurrency = 4,
            DequeueTimeout = TimeSpan.FromMilliseconds(200),
            InitialBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            OnEvent = log.Add,
        });
        var run = worker.RunAsync();
        await Eventually.True(() => ran.Count >= 300, "the worker to run 300 tasks before the failover");

        await setup.FailOverAsync();
        Assert.NotEqual(firstPrimary, await setup.PrimaryPortAsync());
        var ranBefore = ran.Count;
        Assert.True(ranBefore < count, "the failover came after the worker had run every task: the test proves nothing");

        await Eventually.True(() => ran.Count == count || run.IsCompleted, "every task to run on the new primary", 90, () => $"{ran.Count} of {count} ran");
        Assert.False(run.IsCompleted, "the worker stopped on the failover: " + string.Join("; ", log.Events.TakeLast(5).Select(e => $"{e.Kind} {e.Error?.Message}")));
        Assert.Equal(count, ran.Count);
        // At least once: a claim the old primary took but never passed on leaves its task in the new primary's list,
        // to run again. The worker goes on until the list is empty, every task with its token. Read from the new primary:
        // until the client has followed the failover, it may still read the old one.
        var newPrimary = await setup.PrimaryPortAsync();
        await Eventually.True(() => PortOf(connection) == newPrimary, "the client to follow the failover to the new primary", 60);
        // Drained means nothing waits and nothing is held: a task claimed but not started when the stop comes goes back.
        await Eventually.True(async () => (await queue.GetStatusAsync()) is { Length: 0, InFlight: 0 }, "the worker to drain the new primary's list", 60);
        worker.RequestStop();
        await run;
        var status = await queue.GetStatusAsync();
        Assert.Equal((0L, 0L), (status.Length, status.Tokens));
    }

    /// <summary>The port of the server the client sends the queue's commands to; 0 while it reconfigures.</summary>
    private static int PortOf(DelayedConnection connection)
    {
        try
        {
            return connection.Database.IdentifyEndpoint("failover") switch
            {
                System.Net.IPEndPoint ip => ip.Port,
                System.Net.DnsEndPoint dns => dns.Port,
                _ => 0,
            };
        }
        catch (StackExchange.Redis.RedisConnectionException)
        {
            return 0;
        }
    }
}
