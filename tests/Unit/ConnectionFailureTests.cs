using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>At-least-once when the worker's connections are cut while it drains a queue.</summary>
[Collection("redis")]
public class ConnectionFailureTests
{
    private const string ClientName = "delayed-test-victim";
    private readonly RedisFixture _redis;

    public ConnectionFailureTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task ConnectionsCutAgainAndAgainLoseNoTask_AndLeaveNothingHeld()
    {
        const int count = 30_000; // a busy drain: at almost any instant some slot waits for a reply
        // The worker has connections of its own, named so that only they are cut.
        using var connection = await DelayedConnection.ConnectAsync($"{_redis.Server.Configuration},name={ClientName}");
        var probe = _redis.NewQueue();
        var queue = new DelayedQueue(connection, probe.Name);
        await probe.EnqueueAsync(Enumerable.Range(0, count).Select(i => TaskEncoder.EncodePython("m:count", new object[] { i }, null, 0)).ToList());

        var runs = new ConcurrentDictionary<long, int>();
        var log = new EventLog();
        var options = new WorkerOptions
        {
            Concurrency = 4,
            StopWhenEmpty = true,
            DequeueTimeout = TimeSpan.FromMilliseconds(100),
            InitialBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
            OnEvent = log.Add,
        };
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:count", c =>
        {
            runs.AddOrUpdate((long)c.Task.Arguments[0]!, 1, (_, n) => n + 1);
        }), options);
        var run = worker.RunAsync();

        // Cut only once the worker runs: a worker that cannot register at start fails at once, by design.
        while (runs.IsEmpty && !run.IsCompleted) await Task.Delay(10);
        long cutWhileDraining = 0;
        for (var round = 0; round < 8 && !run.IsCompleted; round++)
        {
            var cut = await CutConnectionsAsync();
            if (runs.Count < count) cutWhileDraining += cut;
            await Task.Delay(100);
        }
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(cutWhileDraining > 0, "no connection was cut during the drain: the test did not test anything");
        Assert.NotEmpty(log.Of(WorkerEventKind.WorkerError)); // replies were lost, and the worker went on
        Assert.Equal(count, runs.Count); // every task ran at least once (a cut reply may run one twice)
        Assert.True(summary.Succeeded >= count);
        Assert.Equal(0, await _redis.Db.ListLengthAsync(probe.Keys.Tasks));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(probe.Keys.Processing));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(probe.Keys.InFlight));
        // A token taken by a BLPOP whose reply was cut is gone; the sweep repairs the count.
        await probe.SweepAsync();
        Assert.Equal(0, await _redis.Db.ListLengthAsync(probe.Keys.Tokens));
    }

    private async Task<long> CutConnectionsAsync()
    {
        var clients = (string)(await _redis.Db.ExecuteAsync("CLIENT", "LIST"))!;
        long cut = 0;
        foreach (var line in clients.Split('\n'))
        {
            var fields = line.Split(' ');
            if (!fields.Contains("name=" + ClientName)) continue;
            var id = fields.First(f => f.StartsWith("id=", StringComparison.Ordinal)).Substring(3);
            cut += (long)await _redis.Db.ExecuteAsync("CLIENT", "KILL", "ID", id);
        }
        return cut;
    }
}
