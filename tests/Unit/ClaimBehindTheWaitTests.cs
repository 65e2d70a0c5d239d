using System;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// An idle slot of one queue writes its claim right behind its wait on its own connection: Redis claims the moment the
/// wait ends, whether it took a token or timed out, and no token is lost or invented either way.
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
            await Eventually.True(() => WaitsWithItsClaimBehind(worker), "the idle slot to block in BLPOP with its claim queued behind it", 10,
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
    }

    private bool WaitsWithItsClaimBehind(DelayedWorker worker) =>
        worker.WorkerIds is [var id] && _redis.ClientNamed(id) is { } line && line.Contains(" cmd=blpop ", StringComparison.Ordinal)
        && Regex.Match(line, @" qbuf=(\d+) ") is { Success: true } queued && long.Parse(queued.Groups[1].Value, CultureInfo.InvariantCulture) > 0;

    [Fact]
    public Task AnIdleSlotsClaimIsOnTheServerBeforeTheTaskComes_AndTheTaskRunsWithNoTokenLeft() =>
        WithIdleSlotAsync(TimeSpan.FromSeconds(5), async (queue, ran) =>
        {
            await queue.EnqueueAsync(TaskEncoder.EncodePython("d:noop", null, null, 0));
            await Eventually.True(() => ran() == 1, "the task to run");
        });

    [Fact]
    public Task ATaskLeftWithoutATokenRunsWhenTheIdleWaitTimesOut_NotOnlyAfterASweep() =>
        WithIdleSlotAsync(TimeSpan.FromMilliseconds(300), async (queue, ran) =>
        {
            // As a peer's known defect can leave it: the task without its token, so no wait wakes for it.
            await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, TaskEncoder.EncodePython("d:noop", null, null, 0));
            await Eventually.True(() => ran() == 1, "the task without a token to run after a timeout");
        });

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
