using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Scheduling;
using Delayed.Core.Worker;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>Run later: the schedule, its promotion, and retries with back-off.</summary>
[Collection("redis")]
public class ScheduleTests
{
    private readonly RedisFixture _redis;

    public ScheduleTests(RedisFixture redis) => _redis = redis;

    private static byte[] Task(string name, params object[] args) => TaskEncoder.EncodePython(name, args, null, 0);

    [Fact]
    public async Task IdenticalBytesScheduledTwiceAreTwoTasks_AndBothBecomeRunnable()
    {
        var queue = _redis.NewQueue();
        var bytes = Task("m:twice", 1);
        await queue.ScheduleAsync(new[] { (bytes, (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null), (bytes, TimeSpan.Zero, null) });
        Assert.Equal(2, (await queue.GetScheduledAsync()).Count);
        Assert.Equal(2, await queue.PromoteAsync());
        var listed = await _redis.Db.ListRangeAsync(queue.Keys.Tasks);
        Assert.All(listed, t => Assert.Equal(bytes, (byte[])t!));
        Assert.Equal(2, listed.Length);
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Empty(await queue.GetScheduledAsync());
    }

    [Fact]
    public async Task ATaskDueInTwoSecondsBecomesRunnableAfterTwoSecondsAndNotBefore()
    {
        var queue = _redis.NewQueue();
        var clock = Stopwatch.StartNew();
        await queue.ScheduleAsync(new[] { (Task("m:later"), (TimeSpan?)TimeSpan.FromSeconds(2), (DateTimeOffset?)null) });
        var due = Assert.Single(await queue.GetScheduledAsync()).DueAt;
        Assert.Equal(0, await queue.PromoteAsync());
        Assert.Equal(0, await queue.GetLengthAsync());
        await Eventually.True(async () => await queue.PromoteAsync() == 1, "the task never became due");
        // The due time comes from the server's clock, the elapsed time from ours: it cannot have run early.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"promoted after {clock.Elapsed}");
        Assert.Equal(1, await queue.GetLengthAsync());
        Assert.True(due > DateTimeOffset.UtcNow.AddSeconds(-10) && due < DateTimeOffset.UtcNow.AddSeconds(10));
    }

    [Fact]
    public async Task ADelayCountsFromTheServersNowRoundedUp_SoNoTaskIsDueBeforeItsDelayHasPassed_ByAnyWayOfScheduling()
    {
        // Due times are whole milliseconds, due once the server's clock rounded down reaches them: a delay counted from
        // the clock rounded down could end up to a millisecond early (a task due in 2 s became runnable 1.9999 s after
        // it was scheduled). The server's clock read just before each call is in microseconds: most calls land within
        // the same millisecond as that read, where rounding down would put the due time before it plus the delay.
        var queue = _redis.NewQueue();
        var delay = TimeSpan.FromMinutes(1);
        void AssertNotEarly(long before, long dueMs, string how) =>
            Assert.True(dueMs * 1000 >= before + (long)delay.TotalMilliseconds * 1000,
                $"{how}: due at {dueMs} ms, before the server's clock at the call ({before} µs) plus the delay");
        for (var i = 0; i < 20; i++)
        {
            var before = await ServerMicrosecondsAsync();
            var entry = Assert.Single(await queue.ScheduleAsync(new[] { (Task("m:plain", i), (TimeSpan?)delay, (DateTimeOffset?)null) }));
            AssertNotEarly(before, entry.DueAt.ToUnixTimeMilliseconds(), "scheduled");

            before = await ServerMicrosecondsAsync();
            var unique = Assert.Single(await queue.EnqueueUniqueWithOutcomeAsync(new[] { new UniqueTask(Task("m:unique", i), TimeSpan.FromMinutes(5), delay: delay) }));
            AssertNotEarly(before, unique.Scheduled!.DueAt.ToUnixTimeMilliseconds(), "unique");

            before = await ServerMicrosecondsAsync();
            await queue.EnqueueTrackedAsync(new[] { new TrackedEnqueue(Task("m:tracked", i), TimeSpan.FromMinutes(5), delay: delay) });
            var tracked = (await queue.GetScheduledAsync()).Single(e => TaskDecoder.Decode(e.Raw).Name == "m:tracked" && (long)TaskDecoder.Decode(e.Raw).Arguments[0]! == i);
            AssertNotEarly(before, tracked.DueAt.ToUnixTimeMilliseconds(), "tracked");
        }
        Assert.Equal(60, (await queue.GetScheduledAsync()).Count);
        // A delay under a millisecond is not cut to none, nor one of 1.5 ms to one.
        for (var i = 0; i < 20; i++)
        {
            var before = await ServerMicrosecondsAsync();
            var entry = Assert.Single(await queue.ScheduleAsync(new[] { (Task("m:short", i), (TimeSpan?)TimeSpan.FromMilliseconds(1.5), (DateTimeOffset?)null) }));
            Assert.True(entry.DueAt.ToUnixTimeMilliseconds() * 1000 >= before + 1500, $"a delay of 1.5 ms: due at {entry.DueAt.ToUnixTimeMilliseconds()} ms, the call at {before} µs");
        }
        // Without a delay a task is due at once: the next look promotes it, however soon.
        var other = _redis.NewQueue();
        for (var i = 0; i < 20; i++)
        {
            await other.ScheduleAsync(new[] { (Task("m:now", i), (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null) });
            Assert.Equal(1, await other.PromoteAsync());
        }
    }

    [Fact]
    public async Task SchedulingAnswersEachEntryAsStored_ItsIdAndDueTimeByTheServersClock_SoThatItCanBeCancelled()
    {
        var queue = _redis.NewQueue();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddDays(2).ToUnixTimeMilliseconds());
        var entries = await queue.ScheduleAsync(new[] { (Task("m:in"), (TimeSpan?)TimeSpan.FromHours(1), (DateTimeOffset?)null), (Task("m:at"), null, at) });
        var stored = (await queue.GetScheduledAsync()).ToDictionary(e => e.Id);
        Assert.Equal(2, entries.Count);
        foreach (var entry in entries)
        {
            Assert.Equal(stored[entry.Id].DueAt, entry.DueAt);
            Assert.Equal(stored[entry.Id].Raw, entry.Raw);
        }
        Assert.Equal(Task("m:in"), entries[0].Raw);
        Assert.Equal(at, entries[1].DueAt);
        var serverNow = DateTimeOffset.FromUnixTimeMilliseconds(await ServerMillisecondsAsync());
        Assert.InRange(entries[0].DueAt, serverNow.AddMinutes(59), serverNow.AddMinutes(61));
        Assert.Equal(AdminOutcome.Done, await queue.RemoveScheduledAsync(entries[0].Id, entries[0].Raw));
        Assert.Equal(entries[1].Id, Assert.Single(await queue.GetScheduledAsync()).Id);
    }

    [Fact]
    public async Task ATaskScheduledAtAPastTimeIsDueAtOnce()
    {
        var queue = _redis.NewQueue();
        await queue.ScheduleAsync(new[] { (Task("m:at"), (TimeSpan?)null, (DateTimeOffset?)DateTimeOffset.UtcNow.AddMinutes(-1)) });
        await queue.ScheduleAsync(new[] { (Task("m:at"), (TimeSpan?)null, (DateTimeOffset?)DateTimeOffset.UtcNow.AddHours(1)) });
        Assert.Equal(1, await queue.PromoteAsync());
        Assert.Single(await queue.GetScheduledAsync());
    }

    [Fact]
    public async Task PromotionsRacingFromFiveClientsMoveEachTaskExactlyOnce()
    {
        var queue = _redis.NewQueue();
        var tasks = Enumerable.Range(0, 3000).Select(i => (Task("m:race", i), (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null)).ToList();
        await queue.ScheduleAsync(tasks);
        var promoters = Enumerable.Range(0, 5).Select(_ => System.Threading.Tasks.Task.Run(async () =>
        {
            long moved = 0, step;
            do
            {
                step = await queue.PromoteAsync();
                moved += step;
            }
            while (step > 0);
            return moved;
        })).ToArray();
        var total = (await System.Threading.Tasks.Task.WhenAll(promoters)).Sum();
        Assert.Equal(3000, total);
        var listed = (await _redis.Db.ListRangeAsync(queue.Keys.Tasks)).Select(t => Convert.ToBase64String((byte[])t!)).ToList();
        Assert.Equal(3000, listed.Distinct().Count());
        Assert.Equal(3000, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task APythonOrGoWorkerSeesAScheduledTaskOnlyOnceItIsDue_AsAnOrdinaryTaskWithOneToken()
    {
        // A peer that knows only the protocol's keys, doing what the Python and Go workers do (docs/protocol.md, Operations: Claim):
        // BLPOP on the token list, then the dequeue script that pops the task and records it.
        var queue = _redis.NewQueue();
        var bytes = TaskEncoder.EncodeGo("main.Later", new object?[] { 7 });
        using var stop = new CancellationTokenSource();
        var sweeper = new Delayed.Core.Sweeper.DelayedSweeper(new[] { queue }, TimeSpan.FromMinutes(1)).RunAsync(stop.Token);
        var clock = Stopwatch.StartNew();
        // Due by the server's clock, so measured by it (whole ms, as the scripts read it): a client's monotonic clock and
        // the server's wall clock can disagree by a few ms over 1.5 s.
        var scheduledAt = await ServerMillisecondsAsync();
        await queue.ScheduleAsync(new[] { (bytes, (TimeSpan?)TimeSpan.FromSeconds(1.5), (DateTimeOffset?)null) });
        using var peer = await Delayed.Core.Redis.DelayedConnection.ConnectAsync(_redis.Server.Configuration);
        byte[]? taken = null;
        while (taken is null && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            var token = await peer.Database.ExecuteAsync("BLPOP", queue.Keys.Tokens, "0.2");
            if (token.IsNull) continue;
            taken = (byte[]?)await peer.Database.ScriptEvaluateAsync(PeerWorkersTests.PeerDequeue, new RedisKey[] { queue.Keys.Tasks, queue.Keys.Processing }, new RedisValue[] { "12623" });
        }
        var seenAfter = await ServerMillisecondsAsync() - scheduledAt;
        stop.Cancel();
        await sweeper;
        Assert.Equal(bytes, taken);
        Assert.True(seenAfter >= 1500, $"the peer saw the task {seenAfter} ms after it was scheduled, before it was due");
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    /// <summary>The server's clock in whole milliseconds, as the scripts read it (TIME, floored).</summary>
    /// <summary>The server's clock (TIME), in microseconds: what its scripts round to whole milliseconds.</summary>
    private async Task<long> ServerMicrosecondsAsync()
    {
        var time = (RedisResult[])(await _redis.Db.ExecuteAsync("TIME"))!;
        return long.Parse((string)time[0]!, System.Globalization.CultureInfo.InvariantCulture) * 1_000_000
            + long.Parse((string)time[1]!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<long> ServerMillisecondsAsync() => await ServerMicrosecondsAsync() / 1000;

    [Fact]
    public async Task ARunningSweeperPromotesDueTasksWithinASecondOrSo()
    {
        var queue = _redis.NewQueue();
        using var stop = new CancellationTokenSource();
        var sweeper = new Delayed.Core.Sweeper.DelayedSweeper(new[] { queue }, TimeSpan.FromMinutes(1));
        var running = sweeper.RunAsync(stop.Token);
        await queue.ScheduleAsync(new[] { (Task("m:swept"), (TimeSpan?)TimeSpan.FromMilliseconds(300), (DateTimeOffset?)null) });
        await Eventually.True(async () => await queue.GetLengthAsync() == 1, "the sweeper did not promote the due task", 10);
        stop.Cancel();
        await running;
    }

    [Fact]
    public void BackOffCeilingsDoubleUpToTheCap_AndDelaysAreJitteredWithinThem()
    {
        var baseDelay = TimeSpan.FromSeconds(1);
        var cap = TimeSpan.FromSeconds(30);
        Assert.Equal(new[] { 1, 2, 4, 8, 16, 30, 30 }, Enumerable.Range(1, 7).Select(a => (int)RetryDelays.Ceiling(a, baseDelay, cap).TotalSeconds));
        var samples = Enumerable.Range(0, 200).Select(_ => RetryDelays.Next(3, baseDelay, cap)).ToList();
        Assert.All(samples, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromSeconds(4)));
        Assert.True(samples.Distinct().Count() > 150, "the delays are not jittered");
        Assert.Equal(TimeSpan.Zero, RetryDelays.Next(5, TimeSpan.Zero, cap));
    }

    [Fact]
    public async Task AFailedTaskWithBudgetWaitsInTheScheduleWithThePythonRetryBytes_ThenRunsAsItsNextAttempt()
    {
        var queue = _redis.NewQueue();
        var original = TaskEncoder.EncodePython("app:flaky", new object[] { 7 }, null, 2);
        await queue.EnqueueAsync(original);
        var attempts = new ConcurrentQueue<long>();
        var registry = new DelegateRegistry().Add("app:flaky", c =>
        {
            attempts.Enqueue(c.Attempt);
            if (c.Attempt == 1) throw new InvalidOperationException("first time fails");
        });
        var options = new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), StopWhenEmpty = true, RetryDelay = TimeSpan.FromSeconds(30) };
        await new DelayedWorker(queue, registry, options).RunAsync();
        // Not back in the list: in the schedule, with exactly the bytes an immediate (Python) retry would write.
        Assert.Equal(0, await queue.GetLengthAsync());
        var waiting = Assert.Single(await queue.GetScheduledAsync());
        Assert.Equal(TaskEncoder.EncodeRetry(TaskDecoder.Decode(original)), waiting.Raw);
        Assert.InRange(waiting.DueAt, DateTimeOffset.UtcNow.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(35));
        // Make it due now, as the back-off running out would, and run it: the handler sees its second attempt.
        await _redis.Db.SortedSetAddAsync(queue.Keys.Scheduled, (await _redis.Db.SortedSetRangeByRankAsync(queue.Keys.Scheduled))[0], 0);
        await queue.PromoteAsync();
        var summary = await new DelayedWorker(queue, registry, options).RunAsync();
        Assert.Equal(new long[] { 1, 2 }, attempts.ToArray());
        Assert.Equal(1, summary.Succeeded);
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Counters)); // a finished task leaves no counter behind
    }

    /// <summary>
    /// Runs <paramref name="body"/> beside a promoter of <paramref name="queue"/> that has made its first pass, finding
    /// nothing scheduled, so that its next look of its own is five minutes away.
    /// </summary>
    private static async Task WithIdlePromoter(DelayedQueue queue, Func<SchedulePromoter, Task> body)
    {
        var promoter = new SchedulePromoter(new[] { queue }, (_, e) => throw e, null, TimeSpan.FromMinutes(5));
        using var stop = new CancellationTokenSource();
        var run = promoter.RunAsync(stop.Token);
        try
        {
            await Eventually.True(() => promoter.Passes == 1, "the promoter's first pass");
            await body(promoter);
        }
        finally
        {
            stop.Cancel();
            await run;
        }
    }

    [Fact]
    public async Task ATaskThisProcessSchedulesIsPromotedWhenDue_NotAtThePromotersNextLook()
    {
        var queue = _redis.NewQueue();
        await WithIdlePromoter(queue, async promoter =>
        {
            var clock = Stopwatch.StartNew();
            await queue.ScheduleAsync(new[] { (Task("m:soon"), (TimeSpan?)TimeSpan.FromMilliseconds(300), (DateTimeOffset?)null) });
            await Eventually.True(async () => await queue.GetLengthAsync() == 1, "the task to be promoted when due", 10);
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"promoted after {clock.Elapsed.TotalMilliseconds} ms, before it was due");
            // One more pass did it (or two, when the first came a moment before the server's clock said due). The pass is
            // counted once its reply is read, which may be a moment after the test sees the task in the list.
            await Eventually.True(() => promoter.Passes >= 2, "the promoter to count the pass that promoted the task");
            Assert.InRange(promoter.Passes, 2, 3);
        });
    }

    [Fact]
    public async Task TasksScheduledOneAfterAnotherWhilePassesRun_AreAllPromotedWhenDue()
    {
        // Each notice ends the wait in progress or the next one (NextPassTests), or a task waits for the next look (five minutes here).
        var queue = _redis.NewQueue();
        await WithIdlePromoter(queue, async _ =>
        {
            for (var i = 0; i < 50; i++)
                await queue.ScheduleAsync(new[] { (Task("m:stream", i), (TimeSpan?)TimeSpan.FromMilliseconds(i % 5 * 20), (DateTimeOffset?)null) });
            await Eventually.True(async () => await queue.GetLengthAsync() == 50, "every task to be promoted when due", 10);
        });
    }

    [Fact]
    public async Task AFailedTasksRetryRunsWhenItsBackOffEnds_NotAtTheWorkersNextLookAtTheSchedule()
    {
        var queue = _redis.NewQueue();
        var attempts = new ConcurrentQueue<(long Attempt, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        var registry = new DelegateRegistry().Add("app:flaky", c =>
        {
            attempts.Enqueue((c.Attempt, clock.Elapsed));
            if (c.Attempt == 1) throw new InvalidOperationException("first time fails");
        });
        // The worker's promoter looks at the schedule every five minutes on its own: only the notice of the retry can
        // promote it within seconds.
        var options = new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(200), RetryDelay = TimeSpan.FromMilliseconds(300), PromotionInterval = TimeSpan.FromMinutes(5) };
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, registry, options);
        var run = worker.RunAsync(stop.Token);
        try
        {
            await Eventually.True(() => worker.WorkerIds.Count == 1, "the worker to start");
            await queue.EnqueueAsync(TaskEncoder.EncodePython("app:flaky", new object[] { 7 }, null, 2));
            await Eventually.True(() => attempts.Count == 2, "the retry to run", 10);
            var runs = attempts.ToArray();
            Assert.Equal(new long[] { 1, 2 }, runs.Select(r => r.Attempt));
            // Full jitter: the back-off was between 0 and 300 ms; the retry then waited for no look.
            Assert.InRange(runs[1].At - runs[0].At, TimeSpan.Zero, TimeSpan.FromSeconds(3));
        }
        finally
        {
            stop.Cancel();
            await run;
        }
    }

    [Fact]
    public async Task TheCountersLiveAtMost30DaysFromTheirFirstWrite_HoweverOftenTheyAreWrittenSince()
    {
        // Entries that no finish of ours deletes (a Python or Go worker ended the task) must go even on a queue whose
        // counters are written every day: a key whose expiry each write renewed would keep them for ever.
        var queue = _redis.NewQueue();
        var registry = new DelegateRegistry().Add("app:flaky", _ => throw new InvalidOperationException("fails"));
        var options = new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), StopWhenEmpty = true, RetryDelay = TimeSpan.FromSeconds(30) };
        await queue.EnqueueAsync(TaskEncoder.EncodePython("app:flaky", new object[] { 1 }, null, 2));
        await new DelayedWorker(queue, registry, options).RunAsync();
        var first = await _redis.Db.KeyTimeToLiveAsync(queue.Keys.Counters);
        Assert.InRange(first!.Value, TimeSpan.FromDays(29), TimeSpan.FromDays(30));
        // As if 29 days had passed since: a retry's counter, then a sweep's count of a recovery, leave the end where it was.
        await _redis.Db.KeyExpireAsync(queue.Keys.Counters, TimeSpan.FromMinutes(10));
        await queue.EnqueueAsync(TaskEncoder.EncodePython("app:flaky", new object[] { 2 }, null, 2));
        await new DelayedWorker(queue, registry, options).RunAsync();
        await _redis.Db.HashSetAsync(queue.Keys.Processing, queue.Name + "-dead", TaskEncoder.EncodePython("app:lost", null, null, 0));
        Assert.Equal(1, (await queue.SweepAsync()).Recovered);
        Assert.Equal(3, await _redis.Db.HashLengthAsync(queue.Keys.Counters));
        Assert.InRange((await _redis.Db.KeyTimeToLiveAsync(queue.Keys.Counters))!.Value, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        // Gone (here deleted, as its expiry would): the next write starts 30 days afresh, from the sweep as from a worker.
        await _redis.Db.KeyDeleteAsync(queue.Keys.Counters);
        await _redis.Db.HashSetAsync(queue.Keys.Processing, queue.Name + "-dead", TaskEncoder.EncodePython("app:lost", null, null, 0));
        await queue.SweepAsync();
        Assert.InRange((await _redis.Db.KeyTimeToLiveAsync(queue.Keys.Counters))!.Value, TimeSpan.FromDays(29), TimeSpan.FromDays(30));
    }

    [Fact]
    public async Task AWorkerWithoutTheHandlerLeavesTheTaskForOneThatHasIt_BothRunningOnOneQueue()
    {
        var queue = _redis.NewQueue();
        var log = new EventLog();
        var ran = new ConcurrentQueue<string>();
        var without = new DelayedWorker(queue, new DelegateRegistry().Add("other:name", _ => { }),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), OnEvent = log.Add, RetryDelay = TimeSpan.FromMilliseconds(100), MaxReturns = 1000 });
        var withLog = new EventLog();
        var with = new DelayedWorker(queue, new DelegateRegistry().Add("m:mine", c => ran.Enqueue(c.WorkerId)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), OnEvent = withLog.Add });
        var first = without.RunAsync();
        await Eventually.True(() => without.WorkerIds.Count == 1, "the worker without the handler did not start");
        for (var i = 0; i < 5; i++) await queue.EnqueueAsync(Task("m:mine", i));
        await Eventually.True(() => log.Of(WorkerEventKind.TaskReturned).Count > 0, "the worker without the handler never took a task");
        var second = with.RunAsync();
        await Eventually.True(() => ran.Count == 5, "not every task reached the worker with the handler", 60,
            () => $"ran {ran.Count}; without: {Describe(log)}; with: {Describe(withLog)}");
        without.RequestStop();
        with.RequestStop();
        await System.Threading.Tasks.Task.WhenAll(first, second);
        Assert.All(ran, id => Assert.Equal(with.WorkerIds[0], id));
        Assert.Empty(await queue.GetFailedAsync());
        var returned = log.Of(WorkerEventKind.TaskReturned);
        Assert.Single(returned, e => e.Error is not null); // warned once per name, not once per task
    }

    private static string Describe(EventLog log) =>
        string.Join(", ", log.Events.GroupBy(e => e.Kind).Select(g => $"{g.Key} {g.Count()}")) + " " +
        string.Join(" | ", log.Events.Where(e => e.Error is not null && e.Kind == WorkerEventKind.WorkerError).Select(e => e.Error!.Message).Distinct());

    [Fact]
    public async Task ATaskNoWorkerHasAHandlerForFailsWithNoHandlerOnceReturnedMoreOftenThanTheBound()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Task("m:orphan"));
        var options = new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), StopWhenEmpty = true, MaxReturns = 1 };
        var first = await new DelayedWorker(queue, new DelegateRegistry(), options).RunAsync();
        Assert.Equal(1, first.Returned);
        await _redis.Db.SortedSetAddAsync(queue.Keys.Scheduled, (await _redis.Db.SortedSetRangeByRankAsync(queue.Keys.Scheduled))[0], 0);
        await queue.PromoteAsync();
        var second = await new DelayedWorker(queue, new DelegateRegistry(), options).RunAsync();
        Assert.Equal(1, second.Failed);
        var failed = Assert.Single(await queue.GetFailedAsync());
        Assert.Equal("NoHandler", failed.Reason);
        Assert.Contains("m:orphan", failed.Error);
        Assert.Empty(await queue.GetScheduledAsync());
    }
}
