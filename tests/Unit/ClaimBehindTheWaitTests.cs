using System;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
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

    private string? ClientNamed(string name) =>
        _redis.Db.Execute("CLIENT", "LIST").ToString()!.Split('\n').FirstOrDefault(line => line.Contains($" name={name} ", StringComparison.Ordinal));

    /// <summary>Whether the slot is blocked in its wait with the claim already on the server, unread behind it.</summary>
    private bool WaitsWithItsClaimBehind(DelayedWorker worker) =>
        worker.WorkerIds is [var id] && ClientNamed(id) is { } line && line.Contains(" cmd=blpop ", StringComparison.Ordinal)
        && Regex.Match(line, @" qbuf=(\d+) ") is { Success: true } queued && long.Parse(queued.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0;

    [Fact]
    public async Task AnIdleSlotsClaimIsOnTheServerBeforeTheTaskComes_AndTheTaskRunsWithNoTokenLeft()
    {
        var queue = _redis.NewQueue();
        var ran = 0;
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref ran)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(5) });
        var run = worker.RunAsync(stop.Token);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                await Eventually.True(() => WaitsWithItsClaimBehind(worker), "the idle slot to block in BLPOP with its claim queued behind it", 10,
                    () => string.Join(" | ", worker.WorkerIds.Select(ClientNamed)));
                await queue.EnqueueAsync(TaskEncoder.EncodePython("d:noop", new object[] { i }, null, 0));
                await Eventually.True(() => Volatile.Read(ref ran) == i + 1, "the task to run");
            }
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task ATaskLeftWithoutATokenRunsWhenTheIdleWaitTimesOut_NotOnlyAfterASweep()
    {
        var queue = _redis.NewQueue();
        var ran = 0;
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref ran)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(300) });
        var run = worker.RunAsync(stop.Token);
        try
        {
            await Eventually.True(() => WaitsWithItsClaimBehind(worker), "the idle slot to block in BLPOP with its claim queued behind it");
            // As a peer's known defect can leave it: the task without its token, so no wait wakes for it.
            await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, TaskEncoder.EncodePython("d:noop", null, null, 0));
            await Eventually.True(() => Volatile.Read(ref ran) == 1, "the task without a token to run after a timeout");
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task ATokenTheWaitTookWhileTheQueueWasPausedIsPutBack_AndTheTaskRunsOnResume()
    {
        var queue = _redis.NewQueue();
        var ran = 0;
        var log = new EventLog();
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref ran)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(2), OnEvent = log.Add });
        var run = worker.RunAsync(stop.Token);
        try
        {
            await Eventually.True(() => WaitsWithItsClaimBehind(worker), "the idle slot to block in BLPOP with its claim queued behind it");
            Assert.True(await queue.PauseAsync("maintenance"));
            await queue.EnqueueAsync(TaskEncoder.EncodePython("d:noop", null, null, 0));
            await Eventually.True(() => log.Of(WorkerEventKind.QueuePaused).Count == 1, "the worker to notice the pause");
            Assert.Equal(0, Volatile.Read(ref ran));
            Assert.Equal(1, await queue.GetLengthAsync());
            Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens)); // the token its wait took went back
            Assert.True(await queue.ResumeAsync());
            await Eventually.True(() => Volatile.Read(ref ran) == 1, "the task to run once the queue is resumed");
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }
}
