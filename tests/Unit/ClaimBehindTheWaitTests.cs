using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// An idle slot of one queue writes its claim right behind its wait on its own connection: the wait moves a token to the
/// queue's waking list, and Redis runs the claim the moment the wait ends, which claims only with a token from there; no
/// token is lost or invented, and a wait that timed out takes no task.
/// </summary>
[Collection("redis")]
public class ClaimBehindTheWaitTests
{
    private readonly RedisFixture _redis;

    public ClaimBehindTheWaitTests(RedisFixture redis) => _redis = redis;

    /// <summary>
    /// Runs a one-slot worker of a new queue whose handler 'd:noop' counts its runs, first waiting until the slot is
    /// blocked in its wait with the claim already on the server, unread behind it (the premise of every test here);
    /// afterwards, asserts that no task and no token is left.
    /// </summary>
    private async Task WithIdleSlotAsync(TimeSpan dequeueTimeout, Func<DelayedQueue, Func<int>, Task> test, EventLog? log = null)
    {
        var queue = _redis.NewQueue();
        var ran = 0;
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref ran)),
            new WorkerOptions { DequeueTimeout = dequeueTimeout, OnEvent = log is null ? null : log.Add });
        var run = worker.RunAsync(stop.Token);
        try
        {
            await Eventually.True(() => WaitsWithItsClaimBehind(worker), "the idle slot to block in BRPOPLPUSH with its claim queued behind it", 10,
                () => string.Join(" | ", worker.WorkerIds.Select(_redis.ClientNamed)));
            await test(queue, () => Volatile.Read(ref ran));
            // Between tasks it goes back to the same wait.
            await Eventually.True(() => WaitsWithItsClaimBehind(worker), "the slot to wait again with its claim behind");
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Waking));
    }

    private bool WaitsWithItsClaimBehind(DelayedWorker worker) =>
        worker.WorkerIds is [var id] && _redis.ClientNamed(id) is { } line && line.Contains(" cmd=brpoplpush ", StringComparison.Ordinal)
        && Regex.Match(line, @" qbuf=(\d+) ") is { Success: true } queued && long.Parse(queued.Groups[1].Value, CultureInfo.InvariantCulture) > 0;

    [Fact]
    public Task AnIdleSlotsClaimIsOnTheServerBeforeTheTaskComes_AndTheTaskRunsWithNoTokenLeft() =>
        WithIdleSlotAsync(TimeSpan.FromSeconds(5), async (queue, ran) =>
        {
            await queue.EnqueueAsync(TaskEncoder.EncodePython("d:noop", null, null, 0));
            await Eventually.True(() => ran() == 1, "the task to run");
        });

    [Fact]
    public Task AWaitThatTimesOutClaimsNothing_SoATaskWhoseTokenAPeerHasJustTakenStaysForThatPeer() =>
        WithIdleSlotAsync(TimeSpan.FromMilliseconds(200), async (queue, ran) =>
        {
            // As between a Python or Go worker's BLPOP and its claim: the task in the list, its token taken.
            await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, TaskEncoder.EncodePython("d:noop", null, null, 0));
            var waits = await _redis.CommandCallsAsync("brpoplpush");
            await Eventually.True(async () => await _redis.CommandCallsAsync("brpoplpush") >= waits + 2, "two of the slot's waits to time out");
            Assert.Equal(0, ran());
            Assert.Equal(1, await queue.GetLengthAsync());
            // The token comes back (that peer's claim failed): now it runs here.
            await _redis.Db.ListRightPushAsync(queue.Keys.Tokens, "1");
            await Eventually.True(() => ran() == 1, "the task to run once its token is there");
        });

    [Fact]
    public async Task ATokenLeftInTheWakingListByAWaitWhoseRepliesWereLostGoesBack_SoItsTaskStillRuns()
    {
        using var rest = new ReopenIntervalOverride(TimeSpan.FromMinutes(5)); // no later wait of the slot's own takes the token by chance
        var queue = _redis.NewQueue();
        var ran = 0;
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref ran)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(5) });
        var run = worker.RunAsync(stop.Token);
        try
        {
            await Eventually.True(() => WaitsWithItsClaimBehind(worker), "the idle slot to block in BRPOPLPUSH with its claim queued behind it");
            // As a wait leaves it whose claim never ran: the task in the list, its token moved to the waking list.
            await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, TaskEncoder.EncodePython("d:noop", null, null, 0));
            await _redis.Db.ListRightPushAsync(queue.Keys.Waking, "1");
            Assert.Equal(1, (long)await _redis.Db.ExecuteAsync("CLIENT", "KILL", "ID", RedisFixture.IdOf(_redis.ClientNamed(worker.WorkerIds[0])!)));
            await Eventually.True(() => Volatile.Read(ref ran) == 1, "the task whose token was left in the waking list to run");
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Waking));
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    /// <summary>A connection under an account set up before this wait: every command and key of the queue but BRPOPLPUSH.</summary>
    private async Task<DelayedConnection> ConnectWithoutTheWaitAsync()
    {
        await _redis.Db.ExecuteAsync("ACL", "SETUSER", "nowaking", "on", ">pw", "~*", "+@all", "-brpoplpush");
        return await DelayedConnection.ConnectAsync(_redis.Server.Configuration + ",user=nowaking,password=pw");
    }

    [Fact]
    public async Task AnAccountWithoutTheWaitOrTheWakingListStillRunsTasks_ItsSlotsWaitWithBLPOPFromThenOn()
    {
        var queue = _redis.NewQueue();
        using var limited = await ConnectWithoutTheWaitAsync();
        using var fallbacks = new FallbackCount(queue.Name);
        var count = 0;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<WorkerEvent>();
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(new DelayedQueue(limited, queue.Name), new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref count)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(5), OnEvent = e => { if (e.Kind == WorkerEventKind.WorkerError) errors.Enqueue(e); } });
        var run = worker.RunAsync(stop.Token);
        try
        {
            // Refused once, it waits on the same connection with BLPOP.
            await Eventually.True(() => worker.WorkerIds is [var id] && _redis.ClientNamed(id) is { } line && line.Contains(" cmd=blpop ", StringComparison.Ordinal),
                "the slot to wait with BLPOP on its own connection", 10, () => string.Join(" | ", worker.WorkerIds.Select(_redis.ClientNamed)));
            for (var i = 0; i < 3; i++)
            {
                await queue.EnqueueAsync(TaskEncoder.EncodePython("d:noop", new object[] { i }, null, 0));
                await Eventually.True(() => Volatile.Read(ref count) == i + 1, "the task to run");
            }
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.Empty(errors);
        Assert.Equal(0, fallbacks.Claims); // the refusal did not close the connection, nor send the waits to the spare
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task ATaskTheClaimBehindARefusedWaitTookIsHandedBack_NotLeftHeldUnderTheWorker()
    {
        // The refused wait moves nothing, but Redis still runs the claim behind it, which finds a token another slot's
        // lost wait left in the waking list and claims that token's task: its reply must not be dropped.
        var queue = _redis.NewQueue();
        using var limited = await ConnectWithoutTheWaitAsync();
        await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, TaskEncoder.EncodePython("d:noop", null, null, 0));
        await _redis.Db.ListRightPushAsync(queue.Keys.Waking, "1");
        var count = 0;
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(new DelayedQueue(limited, queue.Name), new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref count)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(5) });
        var run = worker.RunAsync(stop.Token);
        try
        {
            // The premise: the claim behind the refused wait took the token and the task.
            await Eventually.True(async () => !await _redis.Db.KeyExistsAsync(queue.Keys.Waking) || Volatile.Read(ref count) > 0, "the claim behind the wait to take the waking token");
            await Eventually.True(() => Volatile.Read(ref count) == 1, "the task the claim behind the refused wait took to run", 10);
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
    }

    [Fact]
    public Task ATokenTheWaitTookWhileTheQueueWasPausedIsPutBack_AndTheTaskRunsOnResume()
    {
        var log = new EventLog();
        return WithIdleSlotAsync(TimeSpan.FromSeconds(2), async (queue, ran) =>
        {
            Assert.True(await queue.PauseAsync("maintenance"));
            await queue.EnqueueAsync(TaskEncoder.EncodePython("d:noop", null, null, 0));
            await Eventually.True(() => log.Of(WorkerEventKind.QueuePaused).Count == 1, "the worker to notice the pause");
            Assert.Equal(0, ran());
            Assert.Equal(1, await queue.GetLengthAsync());
            Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens)); // the token its wait took went back
            Assert.True(await queue.ResumeAsync());
            await Eventually.True(() => ran() == 1, "the task to run once the queue is resumed");
        }, log);
    }
}
