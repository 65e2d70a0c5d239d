using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// A tracked task keeps one record, found by its id, through every move the scripts make: claim, retry, sweep,
/// promotion, stop; equal bytes enqueued many times keep their own records; untracked tasks cost no key.
/// </summary>
[Collection("redis")]
public class TrackingTests
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);
    private readonly RedisFixture _redis;

    public TrackingTests(RedisFixture redis) => _redis = redis;

    private static WorkerOptions Drain() => new()
    {
        DequeueTimeout = TimeSpan.FromMilliseconds(100),
        StopWhenEmpty = true,
        RetryDelay = TimeSpan.Zero,
    };

    // A handler whose output names the record it ran under, so that a record holding another task's output shows.
    private static DelegateRegistry Echo(string name = "m:echo") =>
        new DelegateRegistry().Add(name, c => { c.Output = Encoding.UTF8.GetBytes($"{c.TrackingId}/{c.Attempt}"); });

    private static byte[] Task(string name = "m:echo", long retry = 0) => TaskEncoder.EncodePython(name, new object[] { "same" }, null, retry);

    [Fact]
    public async Task ALineEntryWrittenBeforeEntriesCarriedTheirTime_TheIdAlone_IsStillTakenAndEndsItsRecord()
    {
        var queue = _redis.NewQueue();
        var task = new TrackedEnqueue(Task(), Day);
        await queue.EnqueueTrackedAsync(new[] { task });
        // Today's entry is "id since"; one written by an earlier build held the id alone.
        var entries = (await _redis.Db.HashGetAllAsync(queue.Keys.Tracked)).Where(e => ((string)e.Name!).StartsWith("q", StringComparison.Ordinal)).ToList();
        var entry = Assert.Single(entries);
        Assert.Matches($"^{task.Id} [0-9]+$", (string)entry.Value!);
        await _redis.Db.HashSetAsync(queue.Keys.Tracked, entry.Name, task.Id);

        var summary = await new DelayedWorker(queue, Echo(), Drain()).RunAsync();

        Assert.Equal(1, summary.Succeeded);
        var record = Assert.Single(await queue.GetTrackedAsync(new[] { task.Id }, withData: true));
        Assert.Equal(TrackedState.Completed, record.State);
        Assert.Equal($"{task.Id}/1", Encoding.UTF8.GetString(record.Output!));
    }

    [Fact]
    public async Task EqualBytesEnqueuedTrackedThreeTimesAndOnceUntrackedEachEndWithTheirOwnRecordAndOutput()
    {
        var queue = _redis.NewQueue();
        var tracked = Enumerable.Range(0, 3).Select(_ => new TrackedEnqueue(Task(), Day)).ToList();
        await queue.EnqueueTrackedAsync(tracked);
        await queue.EnqueueAsync(Task());
        Assert.All(await queue.GetTrackedAsync(tracked.Select(t => t.Id).ToList()), t => Assert.Equal(TrackedState.Queued, t.State));

        var worker = new DelayedWorker(queue, Echo(), Drain());
        var before = DateTimeOffset.UtcNow.AddMilliseconds(-5); // the server's clock, in whole ms, on this machine
        var summary = await worker.RunAsync();

        Assert.Equal(4, summary.Succeeded);
        var records = await queue.GetTrackedAsync(tracked.Select(t => t.Id).ToList(), withData: true);
        foreach (var record in records)
        {
            Assert.Equal(TrackedState.Completed, record.State);
            Assert.Equal($"{record.Id}/1", Encoding.UTF8.GetString(record.Output!));
            Assert.Equal(Task(), record.Bytes);
            Assert.Equal(1, record.Attempt);
            Assert.NotNull(record.EndedAt);
            // Where and when it ran, as a running record says.
            Assert.Equal(worker.WorkerIds[0], record.WorkerId);
            Assert.InRange(record.StartedAt!.Value, before, record.EndedAt!.Value);
        }
        // Nothing of the tasks' lines or workers is left behind: only the three records and their end times.
        var fields = (await _redis.Db.HashKeysAsync(queue.Keys.Tracked)).Select(f => ((string)f!)[0]).ToList();
        foreach (var kind in "wqir") Assert.DoesNotContain(kind, fields);
        Assert.Equal(3, await _redis.Db.SortedSetLengthAsync(queue.Keys.TrackedEnded));
    }

    [Fact]
    public async Task RecordsOfRunsThatEndedWrittenBeforeTheyNamedTheirWorkerStillRead()
    {
        var queue = _redis.NewQueue();
        // An earlier build's records: completed ['c', ended, attempt, ms] and stopped while running ['x', ended, why, attempt, ms].
        await _redis.Db.HashSetAsync(queue.Keys.Tracked, new[]
        {
            new HashEntry("s00000000000000c1", new byte[] { 0x94, 0xa1, (byte)'c', 0xcf, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x02, 0x7b }),
            new HashEntry("s00000000000000x1", new byte[] { 0x95, 0xa1, (byte)'x', 0xcf, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xa3, (byte)'w', (byte)'h', (byte)'y', 0x01, 0x7b }),
        });
        var records = await queue.GetTrackedAsync(new[] { "00000000000000c1", "00000000000000x1" });
        var ended = DateTimeOffset.FromUnixTimeMilliseconds(0x18bcfe56800);
        Assert.Equal(TrackedState.Completed, records[0].State);
        Assert.Equal((2L, ended, ended.AddMilliseconds(-123)), (records[0].Attempt, records[0].EndedAt!.Value, records[0].StartedAt!.Value));
        Assert.Null(records[0].WorkerId);
        Assert.Equal(TrackedState.Stopped, records[1].State);
        Assert.Equal(("why", 1L, TimeSpan.FromMilliseconds(123)), (records[1].Reason!, records[1].Attempt, records[1].Duration!.Value));
        Assert.Null(records[1].WorkerId);
    }

    [Fact]
    public async Task UntrackedTasksWriteNoTrackingKey()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Task());
        await queue.EnqueueAsync(Task("m:fail"));
        var registry = Echo().Add("m:fail", _ => throw new InvalidOperationException("no"));
        await new DelayedWorker(queue, registry, Drain()).RunAsync();
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Tracked));
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.TrackedEnded));
    }

    [Fact]
    public async Task ARetriedTaskKeepsItsRecordThroughItsNewBytes_AndAFailureForGoodRecordsReasonErrorAndWorker()
    {
        var queue = _redis.NewQueue();
        var flaky = new TrackedEnqueue(Task("m:flaky", retry: 2), Day);
        var doomed = new TrackedEnqueue(Task("m:doomed", retry: 1), Day);
        await queue.EnqueueTrackedAsync(new[] { flaky, doomed });
        var runs = 0;
        var registry = new DelegateRegistry()
            .Add("m:flaky", c =>
            {
                if (Interlocked.Increment(ref runs) == 1) throw new InvalidOperationException("first time");
                c.Output = Encoding.UTF8.GetBytes($"{c.TrackingId}/{c.Attempt}");
            })
            .Add("m:doomed", c => throw new InvalidOperationException($"disk full on attempt {c.Attempt}"));
        var worker = new DelayedWorker(queue, registry, Drain());
        await worker.RunAsync();

        var records = (await queue.GetTrackedAsync(new[] { flaky.Id, doomed.Id }, withData: true)).ToDictionary(r => r.Id);
        Assert.Equal(TrackedState.Completed, records[flaky.Id].State);
        Assert.Equal(2, records[flaky.Id].Attempt);
        Assert.Equal($"{flaky.Id}/2", Encoding.UTF8.GetString(records[flaky.Id].Output!));
        Assert.Equal(TaskEncoder.EncodePython("m:flaky", new object[] { "same" }, null, 1), records[flaky.Id].Bytes);
        var failed = records[doomed.Id];
        Assert.Equal(TrackedState.Failed, failed.State);
        Assert.Equal("Failed", failed.Reason);
        Assert.Equal("disk full on attempt 2", failed.Error);
        Assert.Equal(2, failed.Attempt);
        Assert.Equal(worker.WorkerIds[0], failed.WorkerId);
    }

    [Fact]
    public async Task ARetryThatWaitsOutItsBackOffIsScheduledThenRunsUnderTheSameRecord()
    {
        var queue = _redis.NewQueue();
        var task = new TrackedEnqueue(Task("m:flaky", retry: 1), Day);
        await queue.EnqueueTrackedAsync(new[] { task });
        var registry = new DelegateRegistry().Add("m:flaky", c =>
        {
            if (c.Attempt == 1) throw new InvalidOperationException("first time");
            c.Output = Encoding.UTF8.GetBytes("second");
        });
        var options = Drain();
        options.RetryDelay = TimeSpan.FromMinutes(5);
        options.MaxRetryDelay = TimeSpan.FromMinutes(5);
        options.MaxTasks = 1;
        await new DelayedWorker(queue, registry, options).RunAsync();
        var scheduled = (await queue.GetTrackedAsync(new[] { task.Id }))[0];
        Assert.Equal(TrackedState.Scheduled, scheduled.State);
        Assert.InRange(scheduled.DueAt!.Value, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(6));

        // Due now: the schedule entry carries the record's id, which promotion follows into the list.
        var entry = Assert.Single(await queue.GetScheduledAsync());
        Assert.Equal(task.Id, entry.Id);
        Assert.Equal(entry.DueAt, scheduled.DueAt); // one time for the record and the schedule
        await _redis.Db.SortedSetAddAsync(queue.Keys.Scheduled, entry.Member(), 0);
        Assert.Equal(1, await queue.PromoteAsync());
        Assert.Equal(TrackedState.Queued, (await queue.GetTrackedAsync(new[] { task.Id }))[0].State);
        await new DelayedWorker(queue, registry, Drain()).RunAsync();
        var done = (await queue.GetTrackedAsync(new[] { task.Id }, withData: true))[0];
        Assert.Equal(TrackedState.Completed, done.State);
        Assert.Equal("second", Encoding.UTF8.GetString(done.Output!));
    }

    [Fact]
    public async Task ATaskOfAWorkerThatDiedIsQueuedAgainBySweep_AndCompletesUnderItsRecordOnAnotherWorker()
    {
        var queue = _redis.NewQueue();
        var task = new TrackedEnqueue(Task(), Day);
        await queue.EnqueueTrackedAsync(new[] { task });
        // A worker claims it, then dies: its liveness key goes.
        const string dead = "0123456789abcdef0123456789abcdef";
        await _redis.Db.StringSetAsync(dead, "1");
        var claim = await queue.FinishAndClaimAsync(dead, ClaimMode.TakeToken, "1:1700000000000", null);
        Assert.Equal(task.Id, claim.TrackingId);
        var running = (await queue.GetTrackedAsync(new[] { task.Id }))[0];
        Assert.Equal(TrackedState.Running, running.State);
        Assert.Equal(dead, running.WorkerId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), running.StartedAt);
        await _redis.Db.KeyDeleteAsync(dead);

        Assert.Equal(1, (await queue.SweepAsync()).Recovered);
        Assert.Equal(TrackedState.Queued, (await queue.GetTrackedAsync(new[] { task.Id }))[0].State);
        await new DelayedWorker(queue, Echo(), Drain()).RunAsync();
        var done = (await queue.GetTrackedAsync(new[] { task.Id }, withData: true))[0];
        Assert.Equal(TrackedState.Completed, done.State);
        Assert.Equal($"{task.Id}/1", Encoding.UTF8.GetString(done.Output!));
    }

    [Fact]
    public async Task StoppingTakesAQueuedOrScheduledTaskOutWithItsToken_ARunningOneIsLeftToItsWorker()
    {
        var queue = _redis.NewQueue();
        var first = new TrackedEnqueue(Task(), Day);
        var second = new TrackedEnqueue(Task(), Day);
        var later = new TrackedEnqueue(Task(), Day, delay: TimeSpan.FromHours(1));
        await queue.EnqueueTrackedAsync(new[] { first, second, later });

        Assert.Equal(CancelOutcome.Stopped, await queue.CancelTrackedAsync(first.Id, "Stop-Job"));
        Assert.Equal(CancelOutcome.Stopped, await queue.CancelTrackedAsync(later.Id, "Stop-Job"));
        Assert.Equal(CancelOutcome.Ended, await queue.CancelTrackedAsync(first.Id, "Stop-Job"));
        Assert.Equal(CancelOutcome.Unknown, await queue.CancelTrackedAsync(TrackingIds.New(), "Stop-Job"));
        var stopped = (await queue.GetTrackedAsync(new[] { first.Id, later.Id })).ToList();
        Assert.All(stopped, s => Assert.Equal(TrackedState.Stopped, s.State));
        Assert.Equal("Stop-Job", stopped[0].Reason);
        Assert.Equal(1, await queue.GetLengthAsync());
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Empty(await queue.GetScheduledAsync());

        // The one left runs under its own record, not under the stopped one's.
        const string worker = "fedcba9876543210fedcba9876543210";
        await _redis.Db.StringSetAsync(worker, "1");
        var claim = await queue.FinishAndClaimAsync(worker, ClaimMode.TakeToken, "1:1", null);
        Assert.Equal(second.Id, claim.TrackingId);
        Assert.Equal(CancelOutcome.Running, await queue.CancelTrackedAsync(second.Id, "Stop-Job"));
    }

    [Fact]
    public async Task StoppingARunningTaskReachesItsWorkerAtItsNextKeepAlive_WhichStopsTheHandlerAndRecordsItStopped()
    {
        var queue = _redis.NewQueue();
        var task = new TrackedEnqueue(Task("m:wait", retry: 5), Day);
        await queue.EnqueueTrackedAsync(new[] { task });
        var started = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new DelegateRegistry().Add("m:wait", async c =>
        {
            started.TrySetResult(true);
            await System.Threading.Tasks.Task.Delay(Timeout.Infinite, c.CancellationToken);
        });
        var options = Drain();
        options.KeepAliveTimeout = TimeSpan.FromSeconds(1);
        var events = new EventLog();
        options.OnEvent = events.Add;
        var worker = new DelayedWorker(queue, registry, options);
        var run = worker.RunAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(CancelOutcome.Running, await queue.CancelTrackedAsync(task.Id, "Stop-Job"));
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(30));

        var stopped = (await queue.GetTrackedAsync(new[] { task.Id }))[0];
        Assert.Equal(TrackedState.Stopped, stopped.State);
        Assert.Equal("Stop-Job", stopped.Reason);
        Assert.Equal(1, stopped.Attempt);
        Assert.Equal(worker.WorkerIds[0], stopped.WorkerId);
        Assert.Single(events.Of(WorkerEventKind.TaskStopped));
        Assert.Equal(0, summary.Retried);
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Empty(await queue.GetScheduledAsync());
        Assert.Empty(await queue.GetFailedAsync());
        Assert.DoesNotContain(await _redis.Db.HashKeysAsync(queue.Keys.Tracked), f => ((string)f!)[0] is 'c' or 'r');
    }

    [Fact]
    public async Task StoppingOneOfManyEqualTasksLeavesTheOthersTheirOwnRecords()
    {
        var queue = _redis.NewQueue();
        var tasks = Enumerable.Range(0, 5).Select(_ => new TrackedEnqueue(Task(), Day)).ToList();
        await queue.EnqueueTrackedAsync(tasks);
        Assert.Equal(CancelOutcome.Stopped, await queue.CancelTrackedAsync(tasks[2].Id, "Stop-Job"));
        Assert.Equal(CancelOutcome.Stopped, await queue.CancelTrackedAsync(tasks[0].Id, "Stop-Job"));
        Assert.Equal(3, (await new DelayedWorker(queue, Echo(), Drain()).RunAsync()).Succeeded);
        var records = await queue.GetTrackedAsync(tasks.Select(t => t.Id).ToList(), withData: true);
        Assert.Equal(new[] { TrackedState.Stopped, TrackedState.Completed, TrackedState.Stopped, TrackedState.Completed, TrackedState.Completed },
            records.Select(r => r.State));
        foreach (var record in records.Where(r => r.State == TrackedState.Completed))
            Assert.Equal($"{record.Id}/1", Encoding.UTF8.GetString(record.Output!));
        Assert.DoesNotContain(await _redis.Db.HashKeysAsync(queue.Keys.Tracked), f => ((string)f!)[0] is 'w' or 'q' or 'i');
    }

    [Fact]
    public async Task ATrackedTaskTakenByAWorkerThatKeepsNoRecordsIsSaidSoWhenStopped()
    {
        var queue = _redis.NewQueue();
        var task = new TrackedEnqueue(Task(), Day);
        await queue.EnqueueTrackedAsync(new[] { task });
        // What a Python or Go worker does: BLPOP a token, LPOP the task, HSET it as processing; nothing else.
        await _redis.Db.ListLeftPopAsync(queue.Keys.Tokens);
        var bytes = await _redis.Db.ListLeftPopAsync(queue.Keys.Tasks);
        await _redis.Db.HashSetAsync(queue.Keys.Processing, "python-worker", bytes);

        Assert.Equal(CancelOutcome.TakenUntracked, await queue.CancelTrackedAsync(task.Id, "Stop-Job"));
        Assert.Equal(TrackedState.TakenUntracked, (await queue.GetTrackedAsync(new[] { task.Id }))[0].State);
    }

    [Fact]
    public async Task AdminRepairsCarryTheRecord_RestoringAFailureOrADeadWorkersTaskQueuesItAgain_RemovingOneStopsIt()
    {
        var queue = _redis.NewQueue();
        var failing = new TrackedEnqueue(Task("m:fail"), Day);
        await queue.EnqueueTrackedAsync(new[] { failing });
        await new DelayedWorker(queue, new DelegateRegistry().Add("m:fail", _ => throw new InvalidOperationException("no")), Drain()).RunAsync();
        var failed = Assert.Single(await queue.GetFailedAsync());
        Assert.Equal(failing.Id, failed.TrackingId);
        Assert.Equal(new long?[] { 0 }, await queue.RestoreFailedAsync(new[] { (failed.Id, failed.Raw) }));
        Assert.Equal(TrackedState.Queued, (await queue.GetTrackedAsync(new[] { failing.Id }))[0].State);
        Assert.Equal(0, await _redis.Db.SortedSetLengthAsync(queue.Keys.TrackedEnded));
        await new DelayedWorker(queue, Echo("m:fail"), Drain()).RunAsync();
        Assert.Equal(TrackedState.Completed, (await queue.GetTrackedAsync(new[] { failing.Id }))[0].State);

        // A dead worker's task, restored by hand; then one removed by hand.
        var held = new TrackedEnqueue(Task(), Day);
        var removed = new TrackedEnqueue(Task(), Day);
        await queue.EnqueueTrackedAsync(new[] { held });
        const string dead = "00112233445566778899aabbccddeeff";
        await _redis.Db.StringSetAsync(dead, "1");
        await queue.FinishAndClaimAsync(dead, ClaimMode.TakeToken, "1:1", null);
        await _redis.Db.KeyDeleteAsync(dead);
        Assert.Equal(AdminOutcome.Done, await queue.RestoreAsync(dead, Task(), tail: true, force: false));
        Assert.Equal(TrackedState.Queued, (await queue.GetTrackedAsync(new[] { held.Id }))[0].State);
        await queue.EnqueueTrackedAsync(new[] { removed });
        Assert.Equal(AdminOutcome.Done, await queue.RemoveQueuedAsync(1, Task()));
        var states = await queue.GetTrackedAsync(new[] { held.Id, removed.Id });
        Assert.Equal(TrackedState.Stopped, states[0].State); // the oldest of the equal ones: they are interchangeable
        Assert.Equal("Remove-DelayedTask", states[0].Reason);
        Assert.Equal(TrackedState.Queued, states[1].State);
        await new DelayedWorker(queue, Echo(), Drain()).RunAsync();
        Assert.Equal(TrackedState.Completed, (await queue.GetTrackedAsync(new[] { removed.Id }))[0].State);
    }

    [Fact]
    public async Task ALookForTasksTakenUntrackedScansOnlyAsMuchOfTheListAsItsBudget_TheNextLooksTakeTheOthersInTurn_PacedByTheirCost()
    {
        // Each distinct task checked costs a scan of the whole list, during which Redis serves no one: on a long queue, many
        // waiting jobs would stall every worker. Here a budget of 30 entries on a list of 23 allows one scan per look.
        var queue = _redis.NewQueue();
        for (var i = 0; i < 20; i++) await queue.EnqueueAsync(Task("m:other"));
        var tracked = new[] { "m:a", "m:b", "m:c" }.Select(name => new TrackedEnqueue(Task(name), Day)).ToList();
        await queue.EnqueueTrackedAsync(tracked);
        var ids = tracked.Select(t => t.Id).ToList();
        // A Go or Python worker takes a and c (from wherever they are: only the copies in the list count).
        foreach (var taken in new[] { tracked[0], tracked[2] })
        {
            await _redis.Db.ListRemoveAsync(queue.Keys.Tasks, taken.Task, 1);
            await _redis.Db.ListLeftPopAsync(queue.Keys.Tokens);
        }
        Assert.Equal(1, (await queue.ReconcileTrackedAsync(ids, budget: 30)).Checked);
        Assert.Equal(3, (await queue.ReconcileTrackedAsync(ids, budget: 100)).Checked); // 3 scans of 21: 63
        // Those two calls ended a and c as taken. The same again, found by the reconciler: one scan per look, each in turn.
        tracked = new[] { "m:a", "m:b", "m:c" }.Select(name => new TrackedEnqueue(Task(name), Day)).ToList();
        await queue.EnqueueTrackedAsync(tracked);
        ids = tracked.Select(t => t.Id).ToList();
        foreach (var taken in new[] { tracked[0], tracked[2] })
        {
            await _redis.Db.ListRemoveAsync(queue.Keys.Tasks, taken.Task, 1);
            await _redis.Db.ListLeftPopAsync(queue.Keys.Tokens);
        }
        var reconciler = new TrackedReconciler(queue, TimeSpan.FromHours(1), budget: 30);
        var found = new List<string>();
        for (var look = 0; look < 3; look++)
        {
            var taken = await reconciler.LookAsync(ids);
            Assert.True(taken.Count <= 1, $"look {look} checked more than its budget allows: {string.Join(", ", taken)}");
            found.AddRange(taken);
            Assert.False(reconciler.Due, "a look is not due again before its pause");
            Assert.True(reconciler.Pause >= TimeSpan.FromHours(1));
        }
        Assert.Equal(new[] { tracked[0].Id, tracked[2].Id }.OrderBy(id => id, StringComparer.Ordinal), found.OrderBy(id => id, StringComparer.Ordinal));
        Assert.Equal(new[] { TrackedState.TakenUntracked, TrackedState.Queued, TrackedState.TakenUntracked }, (await queue.GetTrackedAsync(ids)).Select(s => s.State));
    }

    /// <summary>What a Python or Go worker does to a task it takes: its copy leaves the list, with a token; no record changes.</summary>
    private async Task TakeUntracked(DelayedQueue queue, byte[] task)
    {
        Assert.Equal(1, await _redis.Db.ListRemoveAsync(queue.Keys.Tasks, task, 1));
        await _redis.Db.ListLeftPopAsync(queue.Keys.Tokens);
    }

    [Fact]
    public async Task ASweepEndsTrackedTasksTakenUntracked_WhenNoJobWaitsOnThem()
    {
        var queue = _redis.NewQueue();
        var tracked = Enumerable.Range(0, 5).Select(i => new TrackedEnqueue(Task("m:" + i), Day)).ToList();
        await queue.EnqueueTrackedAsync(tracked);
        foreach (var i in new[] { 0, 2, 3 }) await TakeUntracked(queue, tracked[i].Task);
        Assert.Equal(3, (await queue.SweepAsync()).TakenUntracked);
        Assert.Equal(new[] { TrackedState.TakenUntracked, TrackedState.Queued, TrackedState.TakenUntracked, TrackedState.TakenUntracked, TrackedState.Queued },
            (await queue.GetTrackedAsync(tracked.Select(t => t.Id).ToList())).Select(s => s.State));
        Assert.Equal(0, (await queue.SweepAsync()).TakenUntracked);
        Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.Tracked, "z"), "a finished round leaves no cursor");
        // The two left still run as tracked tasks.
        await new DelayedWorker(queue, new DelegateRegistry().Add("m:1", _ => { }).Add("m:4", _ => { }), Drain()).RunAsync();
        Assert.All(await queue.GetTrackedAsync(new[] { tracked[1].Id, tracked[4].Id }), s => Assert.Equal(TrackedState.Completed, s.State));
    }

    [Fact]
    public async Task ATaskThatAPythonSweeperRecoveredFromOurDeadWorkerWaitsTrackedAgain_OrEndsTakenOnceItsCopyIsGone()
    {
        var queue = _redis.NewQueue();
        var tracked = new[] { "m:a", "m:b" }.Select(name => new TrackedEnqueue(Task(name), Day)).ToList();
        await queue.EnqueueTrackedAsync(tracked);
        var workers = new[] { "00112233445566778899aabbccddee01", "00112233445566778899aabbccddee02" };
        foreach (var worker in workers)
        {
            await _redis.Db.StringSetAsync(worker, "1");
            await queue.FinishAndClaimAsync(worker, ClaimMode.TakeToken, "1:1", null);
            await _redis.Db.KeyDeleteAsync(worker);
        }
        Assert.All(await queue.GetTrackedAsync(tracked.Select(t => t.Id).ToList()), s => Assert.Equal(TrackedState.Running, s.State));
        // The Python sweeper's recovery: each dead worker's task back at the tail, with a token; no record changes.
        foreach (var worker in workers)
        {
            await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, await _redis.Db.HashGetAsync(queue.Keys.Processing, worker));
            await _redis.Db.ListLeftPushAsync(queue.Keys.Tokens, "1");
            await _redis.Db.HashDeleteAsync(queue.Keys.Processing, worker);
        }
        await TakeUntracked(queue, tracked[1].Task); // and a Python worker took b
        Assert.Equal(1, (await queue.SweepAsync()).TakenUntracked);
        Assert.Equal(new[] { TrackedState.Queued, TrackedState.TakenUntracked }, (await queue.GetTrackedAsync(tracked.Select(t => t.Id).ToList())).Select(s => s.State));
        foreach (var worker in workers) Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.Tracked, "r" + worker), "a running entry left for a worker that holds nothing");
        await new DelayedWorker(queue, new DelegateRegistry().Add("m:a", _ => { }), Drain()).RunAsync();
        Assert.Equal(TrackedState.Completed, (await queue.GetTrackedAsync(new[] { tracked[0].Id }))[0].State);
    }

    [Fact]
    public async Task ASweepThatCannotLookForTasksTakenUntrackedStillRecoversAndRepairs_AndSaysWhy()
    {
        // As on Redis before 6.0.6 (no LPOS) or under an account without HSCAN: the sweep's own work must not depend on it.
        var user = "nohscan" + Guid.NewGuid().ToString("N").Substring(0, 6);
        await _redis.Db.ExecuteAsync("ACL", "SETUSER", user, "on", ">secret-pass", "~*", "&*", "+@all", "-hscan");
        try
        {
            using var connection = await DelayedConnection.ConnectAsync($"{_redis.Server.Configuration},user={user},password=secret-pass");
            var queue = new DelayedQueue(connection, _redis.NewQueue().Name);
            await queue.EnqueueTrackedAsync(new[] { new TrackedEnqueue(Task(), Day) });
            await _redis.Db.HashSetAsync(queue.Keys.Processing, queue.Name + "-dead", Task("m:lost"));
            var result = await queue.SweepAsync();
            Assert.Equal((1L, 1L), (result.Recovered, result.TokenAdjustment));
            Assert.Equal(await _redis.Db.ListLengthAsync(queue.Keys.Tasks), await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
            Assert.False(string.IsNullOrEmpty(result.UntrackedLookError), "the reply says why the look failed (Redis's words differ by version)");
        }
        finally
        {
            await _redis.Db.ExecuteAsync("ACL", "DELUSER", user);
        }
    }

    [Fact]
    public async Task OnALongQueueEachSweepLooksAtTheLinesItsBudgetAllows_AndTheNextSweepGoesOnWhereItStopped()
    {
        // A sweep may compare 250,000 list entries: with 130,000 tasks waiting, one line per sweep.
        var queue = _redis.NewQueue();
        try
        {
            var padding = Enumerable.Range(0, 10_000).Select(_ => Task("m:padding")).ToList();
            for (var i = 0; i < 13; i++) await queue.EnqueueAsync(padding);
            var tracked = new[] { "m:a", "m:b", "m:c" }.Select(name => new TrackedEnqueue(Task(name), Day)).ToList();
            await queue.EnqueueTrackedAsync(tracked);
            await TakeUntracked(queue, tracked[2].Task); // the last line: found only if each sweep goes on from the last
            var found = new List<long>();
            for (var sweep = 0; sweep < 3; sweep++) found.Add((await queue.SweepAsync()).TakenUntracked);
            Assert.Equal(new long[] { 0, 0, 1 }, found);
            Assert.Equal(new[] { TrackedState.Queued, TrackedState.Queued, TrackedState.TakenUntracked },
                (await queue.GetTrackedAsync(tracked.Select(t => t.Id).ToList())).Select(s => s.State));
        }
        finally
        {
            await _redis.Db.KeyDeleteAsync(new RedisKey[] { queue.Keys.Tasks, queue.Keys.Tokens });
        }
    }

    [Fact]
    public async Task ALineWhoseTasksWaitNearTheHeadCostsTheSweepOnlyThatFarOfItsScan()
    {
        // The same 130,000 tasks behind the tracked ones: each scan stops at its copy, so one sweep checks every line.
        var queue = _redis.NewQueue();
        try
        {
            var tracked = new[] { "m:a", "m:b", "m:c" }.Select(name => new TrackedEnqueue(Task(name), Day)).ToList();
            await queue.EnqueueTrackedAsync(tracked);
            var padding = Enumerable.Range(0, 10_000).Select(_ => Task("m:padding")).ToList();
            for (var i = 0; i < 13; i++) await queue.EnqueueAsync(padding);
            await TakeUntracked(queue, tracked[2].Task);
            Assert.Equal(1, (await queue.SweepAsync()).TakenUntracked);
        }
        finally
        {
            await _redis.Db.KeyDeleteAsync(new RedisKey[] { queue.Keys.Tasks, queue.Keys.Tokens });
        }
    }

    [Fact]
    public async Task ALargeTrackedHashIsLookedThroughAcrossSweeps_EachGoingOnFromTheLast()
    {
        // 40 lines of 150 equal tasks each are some 30,000 fields: a sweep reads up to ten pages of about 1,000, and the
        // scans of the lines it meets (each stops at its 150th copy) stay within its budget. The server orders the fields
        // by a hash seeded at its start: the ten lines a copy was taken from all lie in one sweep's third of the hash with a
        // chance of (1/3)^10 (with 20 lines and 15,000 fields the premise failed about one run in sixty).
        var queue = _redis.NewQueue();
        var tracked = Enumerable.Range(0, 6000).Select(i => new TrackedEnqueue(Task("m:" + i / 150), Day)).ToList();
        await queue.EnqueueTrackedAsync(tracked);
        for (var line = 0; line < 40; line += 4) await TakeUntracked(queue, Task("m:" + line));
        var found = new List<long>();
        // Sweeps until one ends the round (no cursor left for the next), as sweepers going on for ever would.
        do found.Add((await queue.SweepAsync()).TakenUntracked);
        while (await _redis.Db.HashExistsAsync(queue.Keys.Tracked, "z") && found.Count < 8);
        Assert.True(found.Count > 1, $"the premise: one sweep looked through the whole hash ({string.Join(", ", found)})");
        Assert.Equal(10, found.Sum());
        // The oldest of each line a copy was taken from.
        var states = await queue.GetTrackedAsync(tracked.Select(t => t.Id).ToList());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => tracked[i * 600].Id), tracked.Where((_, i) => states[i].State == TrackedState.TakenUntracked).Select(t => t.Id));
        Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.Tracked, "z"), "a finished round leaves no cursor");
    }

    [Fact]
    public async Task ReconcilingMarksAsTakenOnlyAsManyOfEqualTasksAsAWorkerKeepingNoRecordsTook_TheOldestFirst()
    {
        var queue = _redis.NewQueue();
        var tasks = Enumerable.Range(0, 3).Select(_ => new TrackedEnqueue(Task(), Day)).ToList();
        await queue.EnqueueTrackedAsync(tasks);
        var ids = tasks.Select(t => t.Id).ToList();
        Assert.Empty((await queue.ReconcileTrackedAsync(ids)).Taken);
        // A Python worker pops the head twice.
        for (var i = 0; i < 2; i++)
        {
            await _redis.Db.ListLeftPopAsync(queue.Keys.Tokens);
            await _redis.Db.ListLeftPopAsync(queue.Keys.Tasks);
        }

        Assert.Equal(ids.Take(2), (await queue.ReconcileTrackedAsync(ids)).Taken);
        Assert.Empty((await queue.ReconcileTrackedAsync(ids)).Taken);
        var states = await queue.GetTrackedAsync(ids);
        Assert.Equal(new[] { TrackedState.TakenUntracked, TrackedState.TakenUntracked, TrackedState.Queued }, states.Select(s => s.State));
        await new DelayedWorker(queue, Echo(), Drain()).RunAsync();
        var last = (await queue.GetTrackedAsync(new[] { ids[2] }, withData: true))[0];
        Assert.Equal(TrackedState.Completed, last.State);
        Assert.Equal($"{ids[2]}/1", Encoding.UTF8.GetString(last.Output!));
    }

    [Fact]
    public async Task RecordsAreDroppedOnceKeptForTheirTime()
    {
        var queue = _redis.NewQueue();
        var brief = new TrackedEnqueue(Task(), TimeSpan.FromMilliseconds(1));
        await queue.EnqueueTrackedAsync(new[] { brief });
        await new DelayedWorker(queue, Echo(), Drain()).RunAsync();
        Assert.Equal(TrackedState.Completed, (await queue.GetTrackedAsync(new[] { brief.Id }))[0].State);
        await Eventually.True(async () =>
        {
            await queue.SweepAsync();
            return (await queue.GetTrackedAsync(new[] { brief.Id }))[0].State == TrackedState.Unknown;
        }, "the record kept for 1 ms to be dropped by a sweep");
        Assert.Empty(await _redis.Db.HashKeysAsync(queue.Keys.Tracked));
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.TrackedEnded));

        // And when another tracked task ends.
        await queue.EnqueueTrackedAsync(new[] { brief = new TrackedEnqueue(Task(), TimeSpan.FromMilliseconds(1)) });
        await new DelayedWorker(queue, Echo(), Drain()).RunAsync();
        // Each round ends one more task kept for a day; the brief one's record goes at the first end past its time.
        var ended = new List<string>();
        await Eventually.True(async () =>
        {
            var next = new TrackedEnqueue(Task(), Day);
            ended.Add(next.Id);
            await queue.EnqueueTrackedAsync(new[] { next });
            await new DelayedWorker(queue, Echo(), Drain()).RunAsync();
            return (await queue.GetTrackedAsync(new[] { brief.Id }))[0].State == TrackedState.Unknown;
        }, "the brief record to go when another tracked task ends");
        Assert.All(await queue.GetTrackedAsync(ended), s => Assert.Equal(TrackedState.Completed, s.State));
    }

    [Fact]
    public async Task AWorkerOfSeveralQueuesTracksATaskOfAnyOfThem()
    {
        var high = _redis.NewQueue("{multi}high");
        var low = new DelayedQueue(high.Connection, "{multi}low" + Guid.NewGuid().ToString("N").Substring(0, 8));
        var task = new TrackedEnqueue(Task(), Day);
        await low.EnqueueTrackedAsync(new[] { task });
        await high.EnqueueAsync(Task());
        var summary = await new DelayedWorker(new[] { high, low }, Echo(), Drain()).RunAsync();
        Assert.Equal(2, summary.Succeeded);
        var done = (await low.GetTrackedAsync(new[] { task.Id }, withData: true))[0];
        Assert.Equal(TrackedState.Completed, done.State);
        Assert.Equal($"{task.Id}/1", Encoding.UTF8.GetString(done.Output!));
    }
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATaskHandedBackAfterALostReplyKeepsTheIdItWasClaimedWith_AndTakesNoneFromTheLine(bool severalQueues)
    {
        // A claim whose reply was lost took an untracked task, and tracked copies of its bytes were enqueued after: the
        // claim that hands it back must not give it the id of a copy still queued. Then a tracked one handed back keeps its id.
        var queue = _redis.NewQueue();
        var other = new DelayedQueue(queue.Connection, queue.Name + "-other");
        var claimFrom = severalQueues ? new[] { queue, other } : null;
        const string worker = "0123456789abcdef0123456789abcdea";
        await _redis.Db.StringSetAsync(worker, "1");
        var first = new TrackedEnqueue(Task(), Day);
        var second = new TrackedEnqueue(Task(), Day);
        await queue.EnqueueAsync(Task());
        var lost = await queue.FinishAndClaimAsync(worker, ClaimMode.TakeToken, "1:0", null, int.MaxValue, claimFrom);
        Assert.Null(lost.TrackingId);
        await queue.EnqueueTrackedAsync(new[] { first, second });
        var again = await queue.FinishAndClaimAsync(worker, ClaimMode.TakeToken, "2:0", null, int.MaxValue, claimFrom, replyLost: true);
        Assert.Equal(lost.Task, again.Task);
        Assert.Null(again.TrackingId);
        Assert.Equal(TrackedState.Queued, (await queue.GetTrackedAsync(new[] { first.Id }))[0].State);

        var tracked = await queue.FinishAndClaimAsync(worker, ClaimMode.TakeToken, "3:0", Finish.Release("2:0"), int.MaxValue, claimFrom);
        Assert.Equal(first.Id, tracked.TrackingId);
        var handed = await queue.FinishAndClaimAsync(worker, ClaimMode.TakeToken, "4:0", null, int.MaxValue, claimFrom);
        Assert.Equal(first.Id, handed.TrackingId);
        Assert.Equal(TrackedState.Queued, (await queue.GetTrackedAsync(new[] { second.Id }))[0].State);
        Assert.Equal(1, await queue.GetLengthAsync());
    }
}
