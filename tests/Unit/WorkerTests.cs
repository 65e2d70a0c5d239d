using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

[Collection("redis")]
public class WorkerTests
{
    private readonly RedisFixture _redis;

    public WorkerTests(RedisFixture redis) => _redis = redis;

    private static WorkerOptions Options(EventLog? log = null, bool stopWhenEmpty = true) => new()
    {
        DequeueTimeout = TimeSpan.FromMilliseconds(100),
        StopWhenEmpty = stopWhenEmpty,
        RetryDelay = TimeSpan.Zero, // retries at once, as the Python worker does; back-off has tests of its own
        OnEvent = log is null ? null : log.Add,
    };

    private async Task AssertNothingInFlight(DelayedQueue queue, DelayedWorker worker)
    {
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.InFlight));
        foreach (var id in worker.WorkerIds) Assert.False(await _redis.Db.KeyExistsAsync(id), "liveness key left after stop");
    }

    [Fact]
    public async Task RunsATaskWithItsArgumentsAndReleasesIt()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("app.tasks:add", new object[] { 1 }, new Dictionary<string, object> { ["b"] = 2 }, 0));
        TaskContext? seen = null;
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("app.tasks:add", c => { seen = c; }), Options());
        var summary = await worker.RunAsync();
        Assert.Equal(1, summary.Succeeded);
        Assert.Equal(new object?[] { 1L }, seen!.Task.Arguments);
        Assert.Equal(2L, seen.Task.NamedArguments["b"]);
        Assert.Equal(worker.WorkerIds[0], seen.WorkerId);
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task HoldsTheTaskUnderItsIdWithALiveKeyWhileRunning()
    {
        var queue = _redis.NewQueue();
        var bytes = TaskEncoder.EncodePython("m:check", null, null, 0);
        await queue.EnqueueAsync(bytes);
        byte[]? held = null;
        string? liveness = null;
        TimeSpan? ttl = null;
        var registry = new DelegateRegistry().Add("m:check", async c =>
        {
            held = await _redis.Db.HashGetAsync(queue.Keys.Processing, c.WorkerId);
            liveness = await _redis.Db.StringGetAsync(c.WorkerId);
            ttl = await _redis.Db.KeyTimeToLiveAsync(c.WorkerId);
        });
        var options = Options();
        options.KeepAliveTimeout = TimeSpan.FromSeconds(2.5); // whole seconds on the wire: 3
        options.KeepAliveInterval = TimeSpan.FromSeconds(1);
        var log = new EventLog();
        options.OnEvent = log.Add;
        await new DelayedWorker(queue, registry, options).RunAsync();
        Assert.Equal(bytes, held);
        Assert.Equal("1", liveness);
        Assert.InRange(ttl!.Value.TotalSeconds, 1, 3);
        Assert.Empty(log.Of(WorkerEventKind.WorkerError));
    }

    [Fact]
    public async Task RunsTasksWhoseBytesAreTheProtocolExamples()
    {
        var queue = _redis.NewQueue();
        string[] examples =
        {
            "91 ae 61 70 70 2e 74 61 73 6b 73 3a 70 69 6e 67",                         // P1
            "93 ad 61 70 70 2e 74 61 73 6b 73 3a 61 64 64 90 82 a1 61 01 a1 62 02",   // P4
            "92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02",                            // G1
            "a9 6d 61 69 6e 2e 50 69 6e 67",                                           // G3
            "93 ad 61 70 70 2e 74 61 73 6b 73 3a 61 64 64 92 01 02 c0",                // GP1
        };
        foreach (var hex in examples)
        {
            await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, Hex.Parse(hex));
            await _redis.Db.ListRightPushAsync(queue.Keys.Tokens, "1");
        }
        var ran = new ConcurrentQueue<string>();
        var registry = new DelegateRegistry();
        foreach (var name in new[] { "app.tasks:ping", "app.tasks:add", "main.Add", "main.Ping" }) registry.Add(name, c => ran.Enqueue(c.Task.Name));
        var summary = await new DelayedWorker(queue, registry, Options()).RunAsync();
        Assert.Equal(5, summary.Succeeded);
        Assert.Equal(new[] { "app.tasks:ping", "app.tasks:add", "main.Add", "main.Ping", "app.tasks:add" }, ran.ToArray());
    }

    [Fact]
    public async Task UnknownNamesArePutBackForAWorkerThatHasTheHandlerAndMalformedBytesGoToTheFailedStore()
    {
        var queue = _redis.NewQueue();
        var garbage = new byte[] { 0xc1, 0x00, 0x01 };
        await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, garbage);
        await _redis.Db.ListRightPushAsync(queue.Keys.Tokens, "1");
        await queue.EnqueueAsync(TaskEncoder.EncodePython("os:system", new object[] { "rm -rf /" }, null, 3));
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:known", null, null, 0));
        var log = new EventLog();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:known", _ => { }), Options(log));
        var summary = await worker.RunAsync();
        Assert.Equal((1L, 1L, 1L, 0L), (summary.Failed, summary.Returned, summary.Succeeded, summary.Retried));
        var failed = Assert.Single(log.Of(WorkerEventKind.TaskFailed));
        Assert.Equal(garbage, failed.RawTask.ToArray());
        Assert.Equal(FailureReason.Malformed, failed.Reason);
        Assert.IsType<MalformedTaskException>(failed.Error);
        var returned = Assert.Single(log.Of(WorkerEventKind.TaskReturned));
        Assert.Equal("os:system", Assert.IsType<UnknownTaskException>(returned.Error).TaskName);
        // Back for another worker after a second at least, though these options retry failures at once (RetryDelay 0).
        Assert.Equal(TimeSpan.FromSeconds(1), returned.RetryIn);
        Assert.Equal(0, await queue.GetLengthAsync());
        var kept = Assert.Single(await queue.GetFailedAsync());
        Assert.Equal("Malformed", kept.Reason);
        Assert.Equal(garbage, kept.Raw);
        Assert.Equal("os:system", TaskDecoder.ReadName(Assert.Single(await queue.GetScheduledAsync()).Raw));
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task SurplusTokensAreHarmless()
    {
        var queue = _redis.NewQueue();
        await _redis.Db.ListRightPushAsync(queue.Keys.Tokens, new StackExchange.Redis.RedisValue[] { "1", "1", "1" });
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", null, null, 0));
        var log = new EventLog();
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("m:f", _ => { }), Options(log)).RunAsync();
        Assert.Equal(1, summary.Succeeded);
        Assert.Empty(log.Of(WorkerEventKind.WorkerError));
    }

    [Fact]
    public async Task AFailingTaskIsRetriedWhileItsBudgetLasts_AndReenqueuedBytesFollowTheRule()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("app.tasks:flaky", new object[] { 7 }, null, 2));
        var attempts = new List<string>();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("app.tasks:flaky", c =>
        {
            attempts.Add(Hex.Format(c.Task.Raw.Span));
            throw new InvalidOperationException("boom");
        }), Options());
        var summary = await worker.RunAsync();
        Assert.Equal((2L, 1L), (summary.Retried, summary.Failed));
        const string path = "af 61 70 70 2e 74 61 73 6b 73 3a 66 6c 61 6b 79";
        Assert.Equal(new[] { $"94 {path} 91 07 80 02", $"94 {path} 91 07 80 01", $"92 {path} 91 07" }, attempts);
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task UnlimitedRetryReenqueuesTheSameBytes()
    {
        var queue = _redis.NewQueue();
        var bytes = TaskEncoder.EncodePython("m:f", new object[] { 7 }, null, -1);
        await queue.EnqueueAsync(bytes);
        var attempts = 0;
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("m:f", c =>
        {
            Assert.Equal(bytes, c.Task.Raw.ToArray());
            if (++attempts < 3) throw new Exception("again");
        }), Options()).RunAsync();
        Assert.Equal((2L, 1L), (summary.Retried, summary.Succeeded));
    }

    [Fact]
    public async Task ABadCallIsNeverRetried_AndGoTasksHaveNoRetry()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:bad", null, null, 5));
        await queue.EnqueueAsync(TaskEncoder.EncodeGo("main.Fail", null));
        var summary = await new DelayedWorker(queue, new DelegateRegistry()
            .Add("m:bad", _ => throw new TaskBindingException("missing parameter x"))
            .Add("main.Fail", _ => throw new Exception("fails")), Options()).RunAsync();
        Assert.Equal((2L, 0L), (summary.Failed, summary.Retried));
        Assert.Equal(0, await queue.GetLengthAsync());
    }

    [Fact]
    public async Task MaxTasksStopsAfterThatManyAndLeavesTheRest()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, 5).Select(i => TaskEncoder.EncodePython("m:f", new object[] { i }, null, 0)).ToList());
        var options = Options(stopWhenEmpty: false);
        options.MaxTasks = 3;
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("m:f", _ => { }), options).RunAsync();
        Assert.Equal(3, summary.Succeeded);
        Assert.Equal(2, await queue.GetLengthAsync());
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task GracefulStopFinishesTheTaskReleasesItAndGoesOfflineForGood()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:slow", null, null, 0));
        var started = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        var options = Options(stopWhenEmpty: false);
        options.KeepAliveTimeout = TimeSpan.FromSeconds(5);
        options.KeepAliveInterval = TimeSpan.FromMilliseconds(50);
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:slow", async _ => { started.SetResult(); await finish.Task; }), options);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        stop.Cancel();
        await Task.Delay(200);
        Assert.False(run.IsCompleted, "the worker must finish its running task before it stops");
        finish.SetResult();
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, summary.Succeeded);
        await Task.Delay(300); // several keep-alive intervals: a late SETEX would bring the key back
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task AnIdleWorkerStopsWithinOneDequeueTimeout()
    {
        var queue = _redis.NewQueue();
        var worker = new DelayedWorker(queue, new DelegateRegistry(), Options(stopWhenEmpty: false));
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await Task.Delay(300);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"stop took {clock.Elapsed}");
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task AWaitingWorkerWakesAtOnceForANewTask_NotAtTheEndOfItsWait()
    {
        var queue = _redis.NewQueue();
        var ran = new TaskCompletionSource<string>();
        var options = Options(stopWhenEmpty: false);
        options.MaxTasks = 1;
        // A long wait: a worker that only polled would start the task seconds late (its idle wait is 5 to 10 s).
        options.DequeueTimeout = TimeSpan.FromSeconds(10);
        var blockedBefore = await _redis.BlockedClientsAsync();
        var run = new DelayedWorker(queue, new DelegateRegistry().Add("m:f", c => ran.SetResult(c.Task.Name)), options).RunAsync();
        // The premise: the worker really waits in a blocking command on the server.
        await Eventually.True(async () => await _redis.BlockedClientsAsync() > blockedBefore, "the worker to block in BLPOP");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", null, null, 0));
        Assert.Equal("m:f", await ran.Task.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the task started {clock.Elapsed} after it was enqueued: the wait did not wake");
        await run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ConcurrentSlotsRunTasksAtTheSameTimeUnderDistinctIds()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, 4).Select(i => TaskEncoder.EncodePython("m:meet", new object[] { i }, null, 0)).ToList());
        using var barrier = new Barrier(4);
        var ids = new ConcurrentBag<string>();
        long inFlightSeen = 0;
        var options = Options();
        options.Concurrency = 4;
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:meet", async c =>
        {
            ids.Add(c.WorkerId);
            // Only four tasks running at the same time can pass this barrier.
            if (!barrier.SignalAndWait(TimeSpan.FromSeconds(10))) throw new TimeoutException("tasks did not run concurrently");
            // Every task reads after the barrier and none is released before its own read, so the first read sees all four.
            var held = await _redis.Db.HashLengthAsync(queue.Keys.Processing);
            long seen;
            while (held > (seen = Interlocked.Read(ref inFlightSeen)) && Interlocked.CompareExchange(ref inFlightSeen, held, seen) != seen) { }
        }), options);
        var summary = await worker.RunAsync();
        Assert.Equal(4, summary.Succeeded);
        Assert.Equal(4, ids.Distinct().Count());
        Assert.Equal(4, worker.WorkerIds.Count);
        Assert.Equal(4, Interlocked.Read(ref inFlightSeen)); // four tasks held under four ids at once
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task BlockingHandlersHoldTheirSlotsOwnThreads_AndRedisStaysResponsive()
    {
        const int slots = 16; // far more than the cores: blocked pool threads would starve the Redis client
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, slots).Select(i => TaskEncoder.EncodePython("m:block", new object[] { i }, null, 0)).ToList());
        using var arrived = new CountdownEvent(slots);
        using var release = new ManualResetEventSlim();
        var onPoolThread = 0;
        var log = new EventLog();
        var options = Options(log);
        options.Concurrency = slots;
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:block", _ =>
        {
            if (Thread.CurrentThread.IsThreadPoolThread) Interlocked.Increment(ref onPoolThread);
            arrived.Signal();
            release.Wait(TimeSpan.FromSeconds(30)); // a synchronous handler that blocks, as ordinary .NET code does
        }), options);
        var run = worker.RunAsync();
        try
        {
            Assert.True(await Task.Run(() => arrived.Wait(TimeSpan.FromSeconds(20))), "the blocking handlers did not all start");
            // Every slot is blocked in its handler, and the shared connection still answers at once.
            Assert.Equal(slots, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
            Assert.Equal(0, await queue.GetLengthAsync().WaitAsync(TimeSpan.FromSeconds(2)));
        }
        finally
        {
            release.Set();
        }
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(slots, summary.Succeeded);
        Assert.Equal(0, onPoolThread);
        Assert.Empty(log.Of(WorkerEventKind.WorkerError));
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task EachHandlerCallSeesTheWorkersExecutionContext_NotWhatAnEarlierTaskLeftInIt()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(new[] { TaskEncoder.EncodePython("m:context", new object[] { 1 }, null, 0), TaskEncoder.EncodePython("m:context", new object[] { 2 }, null, 0) });
        var ambient = new AsyncLocal<string>();
        var seen = new List<string?>();
        ambient.Value = "set by the caller";
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("m:context", c =>
        {
            seen.Add(ambient.Value);
            ambient.Value = $"left by task {c.Task.Arguments[0]}"; // one slot runs both tasks, one after the other
        }), Options()).RunAsync();
        Assert.Equal(2, summary.Succeeded);
        Assert.Equal(new[] { "set by the caller", "set by the caller" }, seen);
    }

    [Fact]
    public async Task AWorkerWhoseLivenessKeyVanishedWritesItAgainBeforeTakingATask()
    {
        var queue = _redis.NewQueue();
        var log = new EventLog();
        var options = Options(log, stopWhenEmpty: false); // the keep-alive loop refreshes only every 15 s
        var keyWhileRunning = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:f", async c =>
            keyWhileRunning.TrySetResult(await _redis.Db.KeyExistsAsync(c.WorkerId))), options);
        var run = worker.RunAsync(stop.Token);
        await Eventually.True(async () => worker.WorkerIds.Count > 0 && await _redis.Db.KeyExistsAsync(worker.WorkerIds[0]), "the worker did not register");

        // As if it had expired while the process was paused (a suspended VM, a debugger).
        Assert.True(await _redis.Db.KeyDeleteAsync(worker.WorkerIds[0]));
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", null, null, 0));

        Assert.True(await keyWhileRunning.Task.WaitAsync(TimeSpan.FromSeconds(10)), "the task ran while its worker looked dead to a sweeper");
        Assert.Contains(log.Of(WorkerEventKind.WorkerError), e => e.Error!.Message.Contains("liveness key"));
        stop.Cancel();
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, summary.Succeeded);
        await AssertNothingInFlight(queue, worker);
    }

    [Fact]
    public async Task ATaskTimeoutSignalsTheHandlersToken_AndCountsAsAFailure()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:hang", null, null, 1));
        var options = Options();
        options.TaskTimeout = TimeSpan.FromMilliseconds(200);
        var attempts = 0;
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("m:hang", async c =>
        {
            attempts++;
            await Task.Delay(Timeout.Infinite, c.CancellationToken);
        }), options).RunAsync();
        Assert.Equal(2, attempts);
        Assert.Equal((1L, 1L), (summary.Retried, summary.Failed));
    }

    [Fact]
    public async Task Backoff_WaitsItsDelayBeforeTheNextTry_UnlessStopped()
    {
        // A slot whose claims fail must not retry at once in a loop against a server in trouble.
        var backoff = new Backoff(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await backoff.WaitAsync(CancellationToken.None);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"the back-off of 300 ms returned after {clock.Elapsed.TotalMilliseconds:N0} ms");
        Assert.Equal(TimeSpan.FromMilliseconds(600), backoff.Next);
    }

    [Fact]
    public async Task Backoff_DoublesFromOneSecondUpToSixty()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var seen = new List<double>();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        for (var i = 0; i < 8; i++)
        {
            seen.Add(backoff.Next.TotalSeconds);
            await backoff.WaitAsync(cancelled.Token);
        }
        Assert.Equal(new double[] { 1, 2, 4, 8, 16, 32, 60, 60 }, seen);
        backoff.Reset();
        Assert.Equal(1, backoff.Next.TotalSeconds);
    }
}

[Collection("redis")]
public class WorkerStopTests
{
    private readonly RedisFixture _redis;

    public WorkerStopTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task ATaskCancelledByAStopRequestGoesBackUnchanged()
    {
        var queue = _redis.NewQueue();
        var bytes = Delayed.Core.Codec.TaskEncoder.EncodePython("m:long", new object[] { 1 }, null, 0);
        await queue.EnqueueAsync(bytes);
        var started = new TaskCompletionSource();
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:long", async c =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, c.CancellationToken);
        }), new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100) });
        var run = worker.RunAsync(stop.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        stop.Cancel();
        await AssertPutBackUnchanged(queue, bytes, await run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>An interrupted task: counted as retried, back in the list as it was with its token, neither in flight nor failed.</summary>
    private async Task AssertPutBackUnchanged(DelayedQueue queue, byte[] bytes, WorkerSummary summary)
    {
        Assert.Equal((1L, 0L, 0L), (summary.Retried, summary.Failed, summary.Succeeded));
        Assert.Equal(new[] { bytes }, (await _redis.Db.ListRangeAsync(queue.Keys.Tasks)).Select(t => (byte[])t!).ToArray());
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
        Assert.Equal(0, await _redis.Db.SortedSetLengthAsync(queue.Keys.Failed));
    }

    [Fact]
    public async Task AHandlerInterruptedBeforeTheWorkerHearsOfTheStopPutsItsTaskBackUnchanged_AndTheWorkerStops()
    {
        // PowerShell stops a handler's pipeline before it tells the worker's cmdlet (Ctrl+C): the handler's word is enough.
        var queue = _redis.NewQueue();
        var bytes = TaskEncoder.EncodePython("m:stopped", new object[] { 1 }, null, 0);
        await queue.EnqueueAsync(bytes);
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:stopped", _ => throw new TaskInterruptedException("stopped with its pipeline")),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100) });
        // No stop requested, no StopWhenEmpty: the worker stops because the handler said so.
        await AssertPutBackUnchanged(queue, bytes, await worker.RunAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ATaskWhoseClaimWasOnItsWayWhenTheStopCameIsPutBackUnstarted()
    {
        var queue = _redis.NewQueue();
        var next = TaskEncoder.EncodePython("m:next", null, null, 0);
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:first", null, null, 0));
        await queue.EnqueueAsync(next);
        var started = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        var ranNext = 0;
        var worker = new DelayedWorker(queue, new DelegateRegistry()
            .Add("m:first", async _ => { started.SetResult(); await finish.Task; })
            .Add("m:next", _ => Interlocked.Increment(ref ranNext)), new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100) });
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var blockedBefore = await _redis.BlockedClientsAsync();
        // The server holds every write back: the call that finishes the first task and claims the next waits there.
        await _redis.Db.ExecuteAsync("CLIENT", "PAUSE", "10000", "WRITE");
        try
        {
            finish.SetResult();
            await Eventually.True(async () => await _redis.BlockedClientsAsync() > blockedBefore, "the worker's claim to be held by the pause");
            stop.Cancel();
        }
        finally
        {
            await _redis.Db.ExecuteAsync("CLIENT", "UNPAUSE");
        }
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, summary.Succeeded);
        Assert.Equal(0, ranNext);
        Assert.Equal(new[] { next }, (await _redis.Db.ListRangeAsync(queue.Keys.Tasks)).Select(t => (byte[])t!).ToArray());
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
    }
}

[Collection("redis")]
public class WorkerLivenessTests
{
    private readonly RedisFixture _redis;

    public WorkerLivenessTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task AWorkerTakesNoTaskWhileItCannotRefreshItsLivenessKey()
    {
        // A Redis user that may register (SET) but not refresh (EXPIRE): the keep-alive fails from the start.
        var queue = _redis.NewQueue();
        await _redis.Db.ExecuteAsync("ACL", "SETUSER", "noexpire", "on", ">pw", "~*", "+@all", "-expire");
        using var limited = await DelayedConnection.ConnectAsync(_redis.Server.Configuration + ",user=noexpire,password=pw");
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", null, null, 0));
        var log = new EventLog();
        var ran = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        await new DelayedWorker(new DelayedQueue(limited, queue.Name), new DelegateRegistry().Add("m:f", _ => { ran++; }),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), OnEvent = log.Add }).RunAsync(stop.Token);
        Assert.Equal(0, ran);
        Assert.Equal(1, await queue.GetLengthAsync());
        Assert.NotEmpty(log.Of(WorkerEventKind.WorkerError));
    }

    [Fact]
    public async Task OneLapseIsReportedOnce_ThoughTheLoopAndASlotRefreshAtOnce()
    {
        // A slot that finds its key gone refreshes every key, as the keep-alive loop does: two refreshes at once each read
        // the keys before either wrote them again, and said the same lapse twice.
        var queue = _redis.NewQueue();
        var ids = new[] { Delayed.Core.Protocol.WorkerIds.New(""), Delayed.Core.Protocol.WorkerIds.New("") };
        var lapses = new ConcurrentQueue<string>();
        var loop = new KeepAliveLoop(new[] { queue }, ids, new WorkerOptions(), WorkerDescription.OfThisProcess(60), e => throw e, lapses.Enqueue);
        await Task.WhenAll(loop.RefreshAsync(), loop.RefreshAsync(), loop.RefreshAsync());
        Assert.Equal(ids.OrderBy(id => id, StringComparer.Ordinal), lapses.OrderBy(id => id, StringComparer.Ordinal));
        foreach (var id in ids) Assert.True(await _redis.Db.KeyExistsAsync(id), "the lapsed key is written again");
        await _redis.Db.KeyDeleteAsync(ids.Select(id => (StackExchange.Redis.RedisKey)id).ToArray());
    }

    [Fact]
    public async Task TheTokenValueIsIgnored()
    {
        var queue = _redis.NewQueue();
        await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, TaskEncoder.EncodePython("m:f", null, null, 0));
        await _redis.Db.ListRightPushAsync(queue.Keys.Tokens, "not-one");
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("m:f", _ => { }),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), StopWhenEmpty = true }).RunAsync();
        Assert.Equal(1, summary.Succeeded);
    }

    [Fact]
    public async Task RegistrationUsesSetNxAndTheIdIsTheLivenessKey()
    {
        var queue = _redis.NewQueue("{tag}");
        string? id = null;
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", null, null, 0));
        await new DelayedWorker(queue, new DelegateRegistry().Add("m:f", c => { id = c.WorkerId; }),
            new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Matches("^\\{tag\\}[0-9a-f]{32}$", id);
        await _redis.Db.StringSetAsync("taken", "1");
        Assert.False(await queue.RegisterAsync("taken", 60, WorkerDescription.OfThisProcess(60)));
        await _redis.Db.KeyDeleteAsync("taken");
    }
}
