using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>A busy slot's own synchronous connection for its claims, and what happens when it breaks.</summary>
[Collection("redis")]
public class DirectConnectionTests
{
    private readonly RedisFixture _redis;

    public DirectConnectionTests(RedisFixture redis) => _redis = redis;

    /// <summary>The CLIENT LIST line of the connection named <paramref name="name"/>, or null.</summary>
    private string? ClientNamed(string name) =>
        _redis.Db.Execute("CLIENT", "LIST").ToString()!.Split('\n').FirstOrDefault(line => line.Contains($" name={name} ", StringComparison.Ordinal));

    private static string IdOf(string clientLine) => clientLine.Split(' ').First(field => field.StartsWith("id=", StringComparison.Ordinal)).Substring(3);

    [Fact]
    public async Task ABusySlotClaimsThroughAConnectionOfItsOwn_NamedAsItsWorkerId()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, 50).Select(i => TaskEncoder.EncodePython("d:noop", new object[] { i }, null, 0)).ToArray());
        await queue.EnqueueAsync(TaskEncoder.EncodePython("d:probe", null, null, 0));
        string? seen = null;
        var registry = new DelegateRegistry().Add("d:noop", _ => { }).Add("d:probe", context => seen = ClientNamed(context.WorkerId));
        var summary = await new DelayedWorker(queue, registry, new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(51, summary.Succeeded);
        Assert.NotNull(seen);
        Assert.Contains(" cmd=evalsha ", seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KillingTheDirectConnectionMidDrainLosesNoTaskAndRunsNoneTwice_AndItIsOpenedAgain()
    {
        var rest = DirectConnection.ReopenInterval;
        DirectConnection.ReopenInterval = TimeSpan.FromMilliseconds(200);
        try
        {
            var queue = _redis.NewQueue();
            const int Count = 2000;
            await queue.EnqueueAsync(Enumerable.Range(0, Count).Select(i => TaskEncoder.EncodePython("d:count", new object[] { i }, null, 0)).ToArray());
            var runs = new ConcurrentDictionary<long, int>();
            var kills = 0;
            string? reopened = null;
            var registry = new DelegateRegistry().Add("d:count", context =>
            {
                var i = Convert.ToInt64(context.Task.Arguments[0], System.Globalization.CultureInfo.InvariantCulture);
                runs.AddOrUpdate(i, 1, (_, n) => n + 1);
                if (i is 400 or 1500)
                {
                    // The direct connection of this slot, as the server sees it: killed under the worker.
                    var line = ClientNamed(context.WorkerId) ?? throw new InvalidOperationException($"no direct connection at task {i}");
                    if (i == 1500) reopened = line;
                    kills += (int)(long)_redis.Db.Execute("CLIENT", "KILL", "ID", IdOf(line));
                }
                // Past the rest after the first kill, so that the next claim opens the connection again.
                if (i == 1000) Thread.Sleep(400);
            });
            var errors = new ConcurrentQueue<WorkerEvent>();
            var options = new WorkerOptions
            {
                StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100),
                OnEvent = e => { if (e.Kind == WorkerEventKind.WorkerError) errors.Enqueue(e); },
            };
            var summary = await new DelayedWorker(queue, registry, options).RunAsync();
            Assert.Equal(2, kills);
            // The claim went on through the multiplexer at once: nothing for the admin to see, no back-off.
            Assert.Empty(errors);
            Assert.NotNull(reopened);
            Assert.Equal(Count, summary.Succeeded);
            Assert.Equal(Count, runs.Count);
            Assert.All(runs, run => Assert.Equal(1, run.Value));
            Assert.Equal(0, await queue.GetLengthAsync());
            Assert.Empty(await queue.GetInFlightAsync());
        }
        finally
        {
            DirectConnection.ReopenInterval = rest;
        }
    }
}
