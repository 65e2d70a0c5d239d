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

    [Fact]
    public async Task TasksAddedAfterAFailover_GoToTheNewPrimary_NeverToTheOldOne_WhichDropsThemWhenItBecomesAReplica()
    {
        using var setup = await LocalRedisSentinel.StartAsync();
        var oldPrimary = await setup.PrimaryPortAsync();
        using var connection = await DelayedConnection.ConnectAsync(setup.SentinelConfiguration, sentinelService: LocalRedisSentinel.ServiceName);
        var queue = new DelayedQueue(connection, "after-failover");
        var sent = new ConcurrentDictionary<string, int>();
        byte[] Task(int n)
        {
            var bytes = TaskEncoder.EncodePython("m:f", new object[] { n }, null, 0);
            sent[Convert.ToBase64String(bytes)] = n;
            return bytes;
        }
        await queue.EnqueueAsync(Task(0));
        await setup.WaitForReplicaAsync();

        // One by one (the enqueue connection), all through the failover: what the old primary took after its replica was
        // promoted is lost with any client (replication is asynchronous), but once the client has taken the sentinel's
        // word, not one more task may go there.
        var last = 0;
        using var stop = new CancellationTokenSource();
        // On a thread of its own, as a script's enqueues are: the pool's threads enqueue through the multiplexer.
        var enqueuer = new Thread(() =>
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    queue.EnqueueAsync(Task(n)).GetAwaiter().GetResult();
                }
                catch (StackExchange.Redis.RedisException)
                {
                    // The old primary's connections are cut as it is demoted: the client reconnects.
                }
                Volatile.Write(ref last, n);
            }
        }) { IsBackground = true };
        enqueuer.Start();
        await setup.FailOverAsync();
        var newPrimary = await setup.PrimaryPortAsync();
        Assert.NotEqual(oldPrimary, newPrimary);
        // The sentinel announces the new primary at once; the client takes it within a poll.
        await Eventually.True(() => PortOf(connection, "after-failover") == newPrimary, "the client to send to the new primary", 5);
        var followedAt = Volatile.Read(ref last) + 1;
        await Eventually.True(() => Volatile.Read(ref last) > followedAt + 200, "200 more tasks to be added one by one");
        stop.Cancel();
        enqueuer.Join();
        // In batches too (the multiplexer).
        for (var i = 0; i < 10; i++) await queue.EnqueueAsync(new[] { Task(-1 - 2 * i), Task(-2 - 2 * i) });

        var onOld = (await ListOnAsync(oldPrimary, "after-failover")).Select(task => sent[task]).ToList();
        Assert.DoesNotContain(onOld, n => n > followedAt || n < 0);
        var onNew = (await ListOnAsync(newPrimary, "after-failover")).Select(task => sent[task]).ToHashSet();
        Assert.All(sent.Values.Where(n => n > followedAt || n < 0), n => Assert.Contains(n, onNew));
    }

    [Fact]
    public async Task AMissedAnnouncementOfANewPrimaryIsMadeUpForByAskingTheSentinelsEverySecond()
    {
        // A sentinel restarted, or the subscription lost: no +switch-master reaches the client.
        SentinelPrimary.HearAnnouncements = false;
        try
        {
            using var setup = await LocalRedisSentinel.StartAsync();
            using var connection = await DelayedConnection.ConnectAsync(setup.SentinelConfiguration, sentinelService: LocalRedisSentinel.ServiceName);
            var queue = new DelayedQueue(connection, "polled");
            await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", new object[] { 0 }, null, 0));
            await setup.WaitForReplicaAsync();
            await setup.FailOverAsync();
            var newPrimary = await setup.PrimaryPortAsync();
            await Eventually.True(() => PortOf(connection, "polled") == newPrimary, "the client to find the new primary by asking", 5);
            await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", new object[] { 1 }, null, 0));
            Assert.Equal(2, (await ListOnAsync(newPrimary, "polled")).Length);
        }
        finally
        {
            SentinelPrimary.HearAnnouncements = true;
        }
    }

    [Fact]
    public async Task AnIdleWorkerWaitsOnTheNewPrimaryAfterAFailover_AndATaskAddedThereWakesItAtOnce()
    {
        using var setup = await LocalRedisSentinel.StartAsync();
        using var connection = await DelayedConnection.ConnectAsync(setup.SentinelConfiguration, sentinelService: LocalRedisSentinel.ServiceName);
        var queue = new DelayedQueue(connection, "idle");
        var ran = new ConcurrentQueue<long>();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:f", c => ran.Enqueue((long)c.Task.Arguments[0]!)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(5) });
        var run = worker.RunAsync();
        try
        {
            await setup.FailOverAsync();
            var newPrimary = await setup.PrimaryPortAsync();
            // Its wait on the old primary ends by its timeout; the next one must be on the new primary.
            await Eventually.True(async () => await BlockedClientsOnAsync(newPrimary) >= 1, "the worker to wait on the new primary", 20);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", new object[] { 1 }, null, 0));
            await Eventually.True(() => !ran.IsEmpty, "the waiting worker to run the task", 10);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the task waited {clock.Elapsed}: the worker did not wake on it (its wait times out after 5 s)");
        }
        finally
        {
            worker.RequestStop();
            await run;
        }
    }

    private static async Task<long> BlockedClientsOnAsync(int port)
    {
        using var server = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
        var info = (string)(await server.GetDatabase().ExecuteAsync("INFO", "clients"))!;
        var line = info.Split('\n').First(l => l.StartsWith("blocked_clients:", StringComparison.Ordinal));
        return long.Parse(line.Substring("blocked_clients:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A queue's tasks as one server holds them, asked of that server alone.</summary>
    private static async Task<string[]> ListOnAsync(int port, string key)
    {
        using var server = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
        return (await server.GetDatabase().ListRangeAsync(key)).Select(task => Convert.ToBase64String((byte[])task!)).ToArray();
    }

    /// <summary>The port of the server the client sends the queue's commands to; 0 while it reconfigures.</summary>
    private static int PortOf(DelayedConnection connection, string key = "failover")
    {
        try
        {
            return connection.Database.IdentifyEndpoint(key) switch
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
