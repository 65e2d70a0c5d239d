using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Scheduling;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>A paused queue: our workers take nothing, scheduled and recurring tasks wait, enqueueing goes on.</summary>
[Collection("redis")]
public class PauseTests
{
    private readonly RedisFixture _redis;

    public PauseTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task PausedMidDrainTheWorkerStopsClaimingWithinADequeueTimeout_AndResumedItFinishes()
    {
        const int count = 300;
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, count).Select(i => TaskEncoder.EncodePython("m:f", new object[] { i }, null, 0)).ToList());
        long ran = 0;
        var log = new EventLog();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:f", async _ =>
        {
            Interlocked.Increment(ref ran);
            await Task.Delay(5);
        }), new WorkerOptions { Concurrency = 2, DequeueTimeout = TimeSpan.FromMilliseconds(200), StopWhenEmpty = true, OnEvent = log.Add });
        var run = worker.RunAsync();
        await Eventually.True(() => Interlocked.Read(ref ran) >= 20, "20 tasks to run before the pause");

        Assert.True(await queue.PauseAsync("maintenance"));
        Assert.False(await queue.PauseAsync("again")); // the first reason stays
        await Eventually.True(() => log.Of(WorkerEventKind.QueuePaused).Count == 1, "the worker to notice the pause");
        await Eventually.True(async () => (await queue.GetStatusAsync()).InFlight == 0, "the running tasks to finish");
        var held = Interlocked.Read(ref ran);
        var status = await queue.GetStatusAsync();
        Assert.True(status.Length > 0, "the queue ran dry before the pause: the test proves nothing");
        Assert.Equal("maintenance", status.Pause!.Reason);
        // Two dequeue timeouts in which a worker that ignored the pause would have taken tasks.
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        Assert.Equal(held, Interlocked.Read(ref ran));
        Assert.Equal(status.Length, await queue.GetLengthAsync());
        Assert.Equal(status.Length, (await queue.GetStatusAsync()).Tokens); // tokens taken while paused went back
        Assert.False(run.IsCompleted);

        Assert.True(await queue.ResumeAsync());
        var summary = await run;
        Assert.Equal(count, summary.Succeeded);
        Assert.Single(log.Of(WorkerEventKind.QueueResumed));
        Assert.Null((await queue.GetStatusAsync()).Pause);
    }

    [Fact]
    public async Task APausedQueueTakesNewTasksButHoldsScheduledAndRecurringOnes_AndClearKeepsThePause()
    {
        var queue = _redis.NewQueue();
        await queue.PauseAsync("window");
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:now", null, null, 0));
        await queue.ScheduleAsync(new[] { (TaskEncoder.EncodePython("m:later", null, null, 0), (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null) });
        var store = new RecurringScheduleStore(queue);
        await store.RegisterAsync(RecurringSchedule.Create("tick", "* * * * * *", "UTC", TaskEncoder.EncodePython("m:tick", null, null, 0)));
        var now = await store.ServerTimeAsync();
        await _redis.Db.SortedSetAddAsync(queue.Keys.RecurringDue, "tick", now.ToUnixTimeMilliseconds() / 1000 * 1000);

        var promoter = new SchedulePromoter(new[] { queue }, (_, e) => throw e);
        Assert.Equal(0, await promoter.PromoteOnceAsync());
        Assert.Equal(1, await queue.GetLengthAsync()); // only the one enqueued directly
        Assert.Single(await queue.GetScheduledAsync());
        Assert.Equal(0, Assert.Single(await store.GetAsync()).Fired);

        await queue.ClearAsync();
        Assert.NotNull((await queue.GetStatusAsync()).Pause);

        await queue.ResumeAsync();
        await queue.ScheduleAsync(new[] { (TaskEncoder.EncodePython("m:later", null, null, 0), (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null) });
        await promoter.PromoteOnceAsync();
        Assert.Equal(1, Assert.Single(await store.GetAsync()).Fired);
        Assert.Equal(2, await queue.GetLengthAsync()); // the scheduled task and one recurring run
    }
}
