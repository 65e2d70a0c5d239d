using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>One worker for several queues: strict priority by their order, or weighted shares; one wait on all.</summary>
[Collection("redis")]
public class MultiQueueTests
{
    private readonly RedisFixture _redis;

    public MultiQueueTests(RedisFixture redis) => _redis = redis;

    private DelayedQueue[] ThreeQueues() => new[] { _redis.NewQueue("high"), _redis.NewQueue("mid"), _redis.NewQueue("low") };

    private static async Task Fill(DelayedQueue queue, int count) =>
        await queue.EnqueueAsync(Enumerable.Range(0, count).Select(i => TaskEncoder.EncodePython("m:f", new object[] { i }, null, 0)).ToList());

    [Fact]
    public async Task EveryTaskOfAnEarlierQueueRunsBeforeAnyOfALaterOne()
    {
        var queues = ThreeQueues();
        for (var i = queues.Length - 1; i >= 0; i--) await Fill(queues[i], 50); // the lowest first: arrival order does not decide
        var ran = new ConcurrentQueue<string>();
        var summary = await new DelayedWorker(queues, new DelegateRegistry().Add("m:f", c => ran.Enqueue(c.Queue)),
            new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(150, summary.Succeeded);
        Assert.Equal(queues.SelectMany(q => Enumerable.Repeat(q.Name, 50)), ran);
    }

    [Fact]
    public async Task AfterACallWhoseReplyWasLostTheTaskItClaimedInAnyQueueIsHandedBack_NotASecondOne()
    {
        var queues = ThreeQueues();
        await Fill(queues[1], 2);
        const string worker = "0123456789abcdef0123456789abcdee";
        await _redis.Db.StringSetAsync(worker, "1");
        // The call that claimed the first task of 'mid'; say its reply never came.
        var lost = await queues[0].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "1:1", null, int.MaxValue, queues);
        Assert.Equal(1, lost.Source);
        var again = await queues[0].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "2:2", null, int.MaxValue, queues, replyLost: true);
        Assert.Equal(lost.Task, again.Task);
        Assert.Equal(1, again.Source);
        Assert.Equal(1, await queues[1].GetLengthAsync()); // the second task is still queued
        Assert.Equal(1, await _redis.Db.HashLengthAsync(queues[1].Keys.Processing));
    }

    [Fact]
    public async Task ATaskArrivingInAnEarlierQueueGoesNextWhileABusySlotDrainsALaterOne_AndTheLastQueueFollowsWhenItRunsDry()
    {
        // A busy slot claims from the queues up to its last task's only: an earlier queue is among them, a later one is
        // reached once those are empty.
        var queues = ThreeQueues();
        await Fill(queues[1], 5);
        await Fill(queues[2], 3);
        var ran = new ConcurrentQueue<string>();
        var registry = new DelegateRegistry()
            .Add("m:f", c =>
            {
                ran.Enqueue(c.Queue);
                if (c.Queue == queues[1].Name && ran.Count == 2)
                    queues[0].EnqueueAsync(TaskEncoder.EncodePython("m:urgent", null, null, 0)).GetAwaiter().GetResult();
            })
            .Add("m:urgent", c => ran.Enqueue(c.Queue));
        var summary = await new DelayedWorker(queues, registry,
            new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(9, summary.Succeeded);
        var names = queues.Select(q => q.Name).ToArray();
        Assert.Equal(new[] { names[1], names[1], names[0], names[1], names[1], names[1], names[2], names[2], names[2] }, ran);
    }

    [Fact]
    public async Task WeightedEachBusyQueueGetsItsShareWithinTenPercent()
    {
        var queues = ThreeQueues();
        foreach (var queue in queues) await Fill(queue, 6000);
        var counts = new ConcurrentDictionary<string, int>();
        var summary = await new DelayedWorker(queues, new DelegateRegistry().Add("m:f", c => counts.AddOrUpdate(c.Queue, 1, (_, n) => n + 1)),
            new WorkerOptions { WeightedQueues = true, MaxTasks = 6000, Concurrency = 2, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(6000, summary.Succeeded);
        foreach (var queue in queues) Assert.True(await queue.GetLengthAsync() > 0, "a queue ran dry: the shares are not those of busy queues");
        var expected = new[] { 3000.0, 2000.0, 1000.0 };
        for (var i = 0; i < 3; i++)
            Assert.True(Math.Abs(counts[queues[i].Name] - expected[i]) <= expected[i] * 0.1, $"{queues[i].Name} ran {counts[queues[i].Name]}, expected {expected[i]} ± 10 %");
    }

    [Fact]
    public async Task AnIdleWorkerWaitsOnAllTheQueuesAtOnce_AndIsListedAndStoppedOnEach()
    {
        var queues = ThreeQueues();
        var ran = new TaskCompletionSource<string>();
        var blockedBefore = await _redis.BlockedClientsAsync();
        var worker = new DelayedWorker(queues, new DelegateRegistry().Add("m:f", c => ran.TrySetResult(c.Queue)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(10) });
        var run = worker.RunAsync();
        await Eventually.True(async () => await _redis.BlockedClientsAsync() > blockedBefore, "the worker to block in BLPOP");
        foreach (var queue in queues) Assert.Single(await queue.GetWorkersAsync());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Fill(queues[2], 1);
        Assert.Equal(queues[2].Name, await ran.Task.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"started {clock.Elapsed} after the enqueue: the wait on the last queue did not wake");

        // A stop asked through any of the queues stops it; going offline it leaves none of them listing it.
        Assert.Equal(AdminOutcome.Done, await queues[1].RequestStopAsync(worker.WorkerIds[0]));
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        foreach (var queue in queues) Assert.Empty(await queue.GetWorkersAsync());
    }

    [Fact]
    public async Task APausedQueueIsPassedOver_AndTheWorkerSaysPausedOnlyWhenAllAre()
    {
        var queues = ThreeQueues();
        foreach (var queue in queues) await Fill(queue, 5);
        await queues[0].PauseAsync("hold");
        var ran = new ConcurrentQueue<string>();
        var log = new EventLog();
        var worker = new DelayedWorker(queues, new DelegateRegistry().Add("m:f", c => ran.Enqueue(c.Queue)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), OnEvent = log.Add });
        var run = worker.RunAsync();
        await Eventually.True(() => ran.Count == 10, "the tasks of the two queues not paused to run");
        Assert.DoesNotContain(queues[0].Name, ran);
        Assert.Empty(log.Of(WorkerEventKind.QueuePaused));
        await queues[1].PauseAsync("hold");
        await queues[2].PauseAsync("hold");
        await Eventually.True(() => log.Of(WorkerEventKind.QueuePaused).Count == 1, "the worker to say that its queues are paused");
        await queues[0].ResumeAsync();
        await Eventually.True(() => ran.Count == 15, "the resumed queue's tasks to run");
        worker.RequestStop();
        await run;
    }

    [Fact]
    public async Task APausedQueueHoldingTasksDoesNotKeepAnIdleWorkerOfSeveralQueuesBusy()
    {
        var queues = ThreeQueues();
        await Fill(queues[0], 3);
        await queues[0].PauseAsync("hold");
        var worker = new DelayedWorker(queues, new DelegateRegistry().Add("m:f", _ => { }),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(1) });
        var run = worker.RunAsync();
        await Eventually.True(async () => (await queues[0].GetWorkersAsync()).Count == 1, "the worker to register");
        var before = await _redis.CommandCallsAsync("blpop", "evalsha", "eval");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var calls = await _redis.CommandCallsAsync("blpop", "evalsha", "eval") - before;
        worker.RequestStop();
        await run;
        // Waiting out its dequeue timeout, the worker makes a few calls a second; a spin makes thousands.
        Assert.True(calls < 40, $"{calls} calls in 2 s: the idle worker spins on the paused queue's tokens");
        Assert.Equal(3, await queues[0].GetLengthAsync());
    }

    [Fact]
    public async Task AStopAskedThroughAnyQueueIsHeardByTheNextClaim_WhicheverQueueItClaimsFrom()
    {
        var queues = ThreeQueues();
        await Fill(queues[0], 20);
        using var running = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var worker = new DelayedWorker(queues, new DelegateRegistry().Add("m:f", _ => { running.Release(); release.Wait(); }),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100) });
        var run = worker.RunAsync();
        Assert.True(await running.WaitAsync(TimeSpan.FromSeconds(15)), "the first task did not start");
        // The worker holds a task of 'high' and claims from 'high' next; the stop is asked through 'low'.
        Assert.Equal(AdminOutcome.Done, await queues[2].RequestStopAsync(worker.WorkerIds[0]));
        foreach (var queue in queues) Assert.True(Assert.Single(await queue.GetWorkersAsync()).StopRequested, $"{queue.Name} does not show the stop request");
        release.Release(20);
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, summary.Succeeded);
        Assert.Equal(19, await queues[0].GetLengthAsync());
    }

    [Fact]
    public async Task AStopRequestWrittenToOneQueueOnlyIsHeardWithinAKeepAliveInterval()
    {
        // A request in the control hash of a queue the worker does not claim from next (as an older client writes it):
        // the claims look in one queue only; the keep-alive refresh looks in all of them.
        var queues = ThreeQueues();
        await Fill(queues[0], 100_000);
        var worker = new DelayedWorker(queues, new DelegateRegistry().Add("m:f", _ => Thread.Sleep(5)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), KeepAliveTimeout = TimeSpan.FromSeconds(4), KeepAliveInterval = TimeSpan.FromMilliseconds(500) });
        var run = worker.RunAsync();
        await Eventually.True(async () => await queues[0].GetLengthAsync() < 100_000, "the worker to start draining 'high'");
        await _redis.Db.HashSetAsync(queues[2].Keys.Control, worker.WorkerIds[0], "stop");
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(summary.Succeeded < 2_000, $"{summary.Succeeded} tasks ran after the request: it was not heard");
        Assert.True(await queues[0].GetLengthAsync() > 90_000);
    }

    [Fact]
    public async Task AClaimOfSeveralQueuesReadsTheCountersOfTheTasksOwnQueue_WhicheverQueueHoldsTheTaskBeingFinished()
    {
        var queues = ThreeQueues();
        const string worker = "0123456789abcdef0123456789abcded";
        await _redis.Db.StringSetAsync(worker, "1");
        async Task Put(DelayedQueue queue, int argument, long attempts)
        {
            var bytes = TaskEncoder.EncodePython("m:f", new object[] { argument }, null, 0);
            await queue.EnqueueAsync(bytes);
            // The digest the scripts key a task's counters by, as they compute it.
            var digest = (string)(await _redis.Db.ScriptEvaluateAsync("return redis.sha1hex(ARGV[1])", null, new StackExchange.Redis.RedisValue[] { bytes }))!;
            await _redis.Db.HashSetAsync(queue.Keys.Counters, "a" + digest, attempts);
        }
        await Put(queues[1], 1, 3);
        await Put(queues[1], 2, 4);
        await Put(queues[2], 3, 5);

        // Holding nothing ('high' first): the task of 'mid', with its counters.
        var first = await queues[0].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "1:1", null, int.MaxValue, queues);
        Assert.Equal((1, 3L), (first.Source, first.Attempts));
        // Finishing it ('mid' holds it, the second in the order): the next of 'mid', then the one of 'low'.
        var second = await queues[1].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "2:2", Finish.Release("1:1"), int.MaxValue, queues);
        Assert.Equal((1, 4L), (second.Source, second.Attempts));
        var third = await queues[1].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "3:3", Finish.Release("2:2"), int.MaxValue, queues);
        Assert.Equal((2, 5L), (third.Source, third.Attempts));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queues[1].Keys.Processing));
        // Its reply lost, the claim asked again through 'low' (the last in the order) hands the same task back.
        var again = await queues[2].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "4:4", null, int.MaxValue, queues, replyLost: true);
        Assert.Equal((2, 5L), (again.Source, again.Attempts));
        Assert.Equal(third.Task, again.Task);
        Assert.Equal(0, await queues[2].GetLengthAsync());
    }

    [Fact]
    public async Task AClaimThatDoesNotKnowItsLastReplyWasLostHandsBackTheTaskHeld_NeverOverwritingIt()
    {
        var queues = ThreeQueues();
        await Fill(queues[1], 3);
        const string worker = "0123456789abcdef0123456789abcdec";
        await _redis.Db.StringSetAsync(worker, "1");
        var lost = await queues[0].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "1:1", null, int.MaxValue, queues);
        var again = await queues[0].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "2:2", null, int.MaxValue, queues);
        Assert.Equal(lost.Task, again.Task);
        Assert.Equal(1, again.Source);
        Assert.Equal(2, await queues[1].GetLengthAsync());
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queues[1].Keys.Tokens));
        Assert.Equal(lost.Task, (byte[]?)await _redis.Db.HashGetAsync(queues[1].Keys.Processing, worker));
    }
    [Theory]
    [InlineData("stop requested")]
    [InlineData("liveness key gone")]
    [InlineData("all paused")]
    [InlineData("some paused")]
    [InlineData("all empty")]
    [InlineData("task in another queue")]
    [InlineData("task in its own queue")]
    public async Task AFinishedTaskOfAWorkerOfSeveralQueuesLeavesOnlyWhatItClaimsNext(string answer)
    {
        var queues = ThreeQueues();
        await Fill(queues[1], 1);
        const string worker = "0123456789abcdef0123456789abcdeb";
        await _redis.Db.StringSetAsync(worker, "1");
        var held = await queues[0].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "1:1", null, int.MaxValue, queues);
        Assert.Equal(1, held.Source);
        var next = TaskEncoder.EncodePython("m:next", null, null, 0);
        switch (answer)
        {
            case "stop requested": await _redis.Db.HashSetAsync(queues[1].Keys.Control, worker, "stop"); break;
            case "liveness key gone": await _redis.Db.KeyDeleteAsync(worker); break;
            case "all paused": foreach (var queue in queues) await queue.PauseAsync("test"); break;
            case "some paused": await queues[0].PauseAsync("test"); break;
            case "task in another queue": await queues[2].EnqueueAsync(next); break;
            case "task in its own queue": await queues[1].EnqueueAsync(next); break;
        }
        var reply = await queues[1].FinishAndClaimAsync(worker, ClaimMode.TakeToken, "2:2", Finish.Release("1:1"), int.MaxValue, queues);
        var claimedFrom = reply.Task is null ? -1 : reply.Source;
        Assert.Equal(answer switch { "task in another queue" => 2, "task in its own queue" => 1, _ => -1 }, claimedFrom);
        for (var q = 0; q < queues.Length; q++)
        {
            Assert.Equal(q == claimedFrom, await _redis.Db.HashExistsAsync(queues[q].Keys.Processing, worker));
            Assert.Equal(q == claimedFrom ? "2:2" : null, (string?)await _redis.Db.HashGetAsync(queues[q].Keys.InFlight, worker));
        }
        if (claimedFrom >= 0) Assert.Equal(next, reply.Task);
    }
}
