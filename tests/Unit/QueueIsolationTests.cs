using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Scheduling;
using Delayed.Core.Sweeper;
using Delayed.Core.Worker;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// A loop over several queues (a worker's promotion, a sweeper) where one queue keeps failing (its node of a cluster
/// down, a key of another type, an account refused its keys): the others are served, and the failure is said of that
/// queue alone, not ended by the others' success.
/// </summary>
[Collection("redis")]
public class QueueIsolationTests
{
    private readonly RedisFixture _redis;

    public QueueIsolationTests(RedisFixture redis) => _redis = redis;

    private static readonly byte[] Task = TaskEncoder.EncodePython("m:f", new object[] { 1 }, null, 0);

    /// <summary>The first queue's schedule is a key of another type: every promotion of it fails (WRONGTYPE).</summary>
    private async Task<DelayedQueue[]> OneBrokenQueueFirst()
    {
        var queues = new[] { _redis.NewQueue("broken"), _redis.NewQueue("fine") };
        await _redis.Db.StringSetAsync(queues[0].Keys.Scheduled, "not a sorted set");
        return queues;
    }

    [Fact]
    public async Task APromotionThatFailsOnOneQueuePromotesTheQueuesAfterIt_AndSaysWhichFailedAndWhenItWorksAgain()
    {
        var queues = await OneBrokenQueueFirst();
        await queues[1].ScheduleAsync(new[] { (Task, (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null) });
        var errors = new ConcurrentQueue<(string Queue, Exception Error)>();
        var recovered = new ConcurrentQueue<string>();
        var promoter = new SchedulePromoter(queues, (q, e) => errors.Enqueue((q.Name, e)), (q, _) => recovered.Enqueue(q.Name));

        Assert.Equal(1, await promoter.PromoteOnceAsync());
        Assert.Equal(1, await queues[1].GetLengthAsync());
        var (failed, error) = Assert.Single(errors);
        Assert.Equal(queues[0].Name, failed);
        Assert.Contains("WRONGTYPE", error.Message);
        await promoter.PromoteOnceAsync();
        Assert.Empty(recovered); // the fine queue's passes end no streak of the broken one's

        await _redis.Db.KeyDeleteAsync(queues[0].Keys.Scheduled);
        await promoter.PromoteOnceAsync();
        Assert.Equal(new[] { queues[0].Name }, recovered);
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public async Task AWorkerOfTwoQueuesRunsTheScheduledTasksOfOneWhileTheOthersPromotionFails_AndNamesIt()
    {
        var queues = await OneBrokenQueueFirst();
        await queues[1].ScheduleAsync(new[] { (Task, (TimeSpan?)TimeSpan.FromMilliseconds(300), (DateTimeOffset?)null) });
        var log = new EventLog();
        var ran = 0;
        using var stop = new CancellationTokenSource();
        var run = new DelayedWorker(queues, new DelegateRegistry().Add("m:f", _ => Interlocked.Increment(ref ran)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(200), OnEvent = log.Add }).RunAsync(stop.Token);
        try
        {
            await Eventually.True(() => Volatile.Read(ref ran) == 1, "the scheduled task of the fine queue to run", 20,
                () => string.Join(" | ", log.Events.Select(e => $"{e.Kind} {e.Queue} {e.Error?.Message}")));
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        var failure = log.Of(WorkerEventKind.WorkerError).First();
        Assert.Equal(queues[0].Name, failure.Queue);
        Assert.Equal($"moving due scheduled tasks to queue '{queues[0].Name}'", failure.Activity);
        Assert.Contains("WRONGTYPE", failure.Error!.Message);
    }

    [Fact]
    public async Task ASweeperSaysThatAQueueWorksAgainOnlyWhenThatQueueDoes()
    {
        var queues = new[] { _redis.NewQueue("broken"), _redis.NewQueue("fine") };
        await _redis.Db.StringSetAsync(queues[0].Keys.Tasks, "not a list"); // every sweep of it fails
        var errors = new ConcurrentQueue<(string Queue, SweeperStep Step)>();
        var recovered = new ConcurrentQueue<(string Queue, SweeperStep Step)>();
        var swept = new ConcurrentQueue<string>();
        var sweeper = new DelayedSweeper(queues)
        {
            OnError = (q, step, _) => errors.Enqueue((q, step)),
            OnRecovered = (q, step, _) => recovered.Enqueue((q, step)),
            OnSwept = r => swept.Enqueue(r.Queue),
        };

        await sweeper.SweepOnceAsync();
        await sweeper.SweepOnceAsync();
        Assert.Equal(new[] { (queues[0].Name, SweeperStep.Sweep), (queues[0].Name, SweeperStep.Sweep) }, errors);
        Assert.Equal(new[] { queues[1].Name, queues[1].Name }, swept);
        Assert.Empty(recovered);

        await _redis.Db.KeyDeleteAsync(queues[0].Keys.Tasks);
        await sweeper.SweepOnceAsync();
        Assert.Equal(new[] { (queues[0].Name, SweeperStep.Sweep) }, recovered);
    }

    [Fact]
    public async Task ASweepRecoversADeadWorkersTaskEvenWhenItsQueuesScheduleCannotBeRead()
    {
        var queue = (await OneBrokenQueueFirst())[0];
        await _redis.Db.HashSetAsync(queue.Keys.Processing, queue.Name + "-gone-worker", Task); // its liveness key is gone
        var errors = new ConcurrentQueue<(string Queue, SweeperStep Step)>();
        var sweeper = new DelayedSweeper(new[] { queue }) { OnError = (q, step, _) => errors.Enqueue((q, step)) }; // no OnSwept: a sweep runs without one

        await sweeper.SweepOnceAsync();
        Assert.True(errors.All(e => e.Step == SweeperStep.Promotion), string.Join(" | ", errors));
        Assert.Equal(Task, (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, 0))!);
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(new[] { (queue.Name, SweeperStep.Promotion) }, errors);
    }
}
