using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>Never drop a task silently: every failure lands in the bounded failed store with its reason, and comes back.</summary>
[Collection("redis")]
public class FailedStoreTests
{
    private readonly RedisFixture _redis;

    public FailedStoreTests(RedisFixture redis) => _redis = redis;

    private static WorkerOptions Once(TimeSpan? timeout = null, int maxBytes = 4 * 1024 * 1024) => new()
    {
        DequeueTimeout = TimeSpan.FromMilliseconds(100),
        StopWhenEmpty = true,
        TaskTimeout = timeout,
        Limits = new PlainDataLimits { MaxTaskBytes = maxBytes },
    };

    [Fact]
    public async Task EveryFailureReasonLandsInTheStoreWithItsFields()
    {
        var queue = _redis.NewQueue();
        var spent = TaskEncoder.EncodePython("m:boom", new object[] { 1 }, null, 0);
        var badCall = TaskEncoder.EncodePython("m:typed", new object[] { "not a number" }, null, 3);
        var slow = TaskEncoder.EncodePython("m:slow", null, null, 0);
        var malformed = new byte[] { 0x93, 0x01, 0x02, 0x03 };
        var huge = TaskEncoder.EncodePython("m:boom", new object[] { new string('x', 5000) }, null, 0);
        foreach (var task in new[] { spent, badCall, slow, malformed, huge }) await queue.EnqueueAsync(task);
        var registry = new DelegateRegistry()
            .Add("m:boom", _ => throw new InvalidOperationException("disk full"))
            .Add("m:typed", c => { if (c.Task.Arguments[0] is not long) throw new TaskBindingException("parameter 'count' wants a number"); })
            .Add("m:slow", c => Task.Delay(Timeout.Infinite, c.CancellationToken).Wait(c.CancellationToken));
        var worker = new DelayedWorker(queue, registry, Once(TimeSpan.FromMilliseconds(200), maxBytes: 4000));
        var summary = await worker.RunAsync();
        Assert.Equal(5, summary.Failed);
        var failed = (await queue.GetFailedAsync()).ToDictionary(f => f.Reason);
        Assert.Equal(new[] { "BadCall", "Failed", "Malformed", "Oversize", "TimedOut" }, failed.Keys.OrderBy(k => k));
        Assert.Equal(spent, failed["Failed"].Raw);
        Assert.Equal("disk full", failed["Failed"].Error);
        Assert.Equal(1, failed["Failed"].Attempts);
        Assert.Equal(worker.WorkerIds[0], failed["Failed"].WorkerId);
        Assert.Equal(Environment.MachineName, failed["Failed"].Host);
        Assert.InRange(failed["Failed"].FailedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(badCall, failed["BadCall"].Raw);
        Assert.Equal(0, failed["BadCall"].Attempts);
        Assert.Equal(slow, failed["TimedOut"].Raw);
        Assert.Equal(malformed, failed["Malformed"].Raw);
        Assert.Equal(huge, failed["Oversize"].Raw); // kept whole, though it never left Redis
        Assert.Contains("over the limit of 4000 bytes", failed["Oversize"].Error);
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
    }

    [Fact]
    public async Task TheStoreKeepsTheNewestWithinItsCountBound_AndNoneWithALimitOfZero()
    {
        var queue = _redis.NewQueue();
        queue.FailedTaskLimit = 3;
        for (var i = 0; i < 5; i++) await queue.EnqueueAsync(TaskEncoder.EncodePython("m:boom", new object[] { i }, null, 0));
        await new DelayedWorker(queue, new DelegateRegistry().Add("m:boom", _ => throw new InvalidOperationException("no")), Once()).RunAsync();
        var kept = await queue.GetFailedAsync();
        Assert.Equal(new object[] { 4L, 3L, 2L }, kept.Select(f => TaskDecoder.Decode(f.Raw).Arguments[0]).ToArray());
        Assert.Equal(3, await _redis.Db.HashLengthAsync(queue.Keys.FailedData));

        var none = _redis.NewQueue();
        none.FailedTaskLimit = 0;
        await none.EnqueueAsync(TaskEncoder.EncodePython("m:boom", null, null, 0));
        var summary = await new DelayedWorker(none, new DelegateRegistry().Add("m:boom", _ => throw new InvalidOperationException("no")), Once()).RunAsync();
        Assert.Equal(1, summary.Failed);
        Assert.False(await _redis.Db.KeyExistsAsync(none.Keys.Failed));
        Assert.Equal(0, await none.GetLengthAsync());
    }

    [Fact]
    public async Task RestoringPutsEachFailedTaskBackOnceWithItsToken_AndRemovingDeletesIt()
    {
        var queue = _redis.NewQueue();
        for (var i = 0; i < 3; i++) await queue.EnqueueAsync(TaskEncoder.EncodePython("m:boom", new object[] { i }, null, 0));
        await new DelayedWorker(queue, new DelegateRegistry().Add("m:boom", _ => throw new InvalidOperationException("no")), Once()).RunAsync();
        var failed = await queue.GetFailedAsync();
        var restored = await queue.RestoreFailedAsync(failed.Take(2).Select(f => (f.Id, f.Raw)).ToList());
        Assert.Equal(new long?[] { 0, 1 }, restored); // each at the tail, where it now waits
        Assert.Equal(new long?[] { null }, await queue.RestoreFailedAsync(new[] { (failed[0].Id, failed[0].Raw) }));
        Assert.Equal(2, await queue.GetLengthAsync());
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(new[] { true }, await queue.RemoveFailedAsync(new[] { failed[2].Id }));
        Assert.Empty(await queue.GetFailedAsync());
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.FailedData));
    }

    [Fact]
    public async Task ATaskWhoseWorkerDiesAgainAndAgainIsFailedAsWorkerLostAfterThreeRecoveries()
    {
        var queue = _redis.NewQueue();
        var task = TaskEncoder.EncodePython("m:crashes", null, null, 0);
        var recoveries = new List<(long Recovered, long Lost)>();
        await queue.EnqueueAsync(task);
        for (var death = 1; death <= 4; death++)
        {
            // A worker takes it (its liveness key never written: it is dead), then a sweep finds it.
            var taken = await queue.FinishAndClaimAsync("gone-worker", ClaimMode.TakeToken, $"{death}:1", null, null);
            Assert.True(taken.Unregistered);
            await _redis.Db.ListLeftPopAsync(queue.Keys.Tokens);
            await _redis.Db.HashSetAsync(queue.Keys.Processing, "gone-worker", (byte[])(await _redis.Db.ListLeftPopAsync(queue.Keys.Tasks))!);
            var sweep = await queue.SweepAsync();
            recoveries.Add((sweep.Recovered, sweep.Lost));
        }
        Assert.Equal(new[] { (1L, 0L), (1L, 0L), (1L, 0L), (0L, 1L) }, recoveries);
        var lost = Assert.Single(await queue.GetFailedAsync());
        Assert.Equal(("WorkerLost", "gone-worker"), (lost.Reason, lost.WorkerId));
        Assert.Equal(task, lost.Raw);
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Counters));
    }

    [Fact]
    public void MapKeysThatAllCollideUnderDotNetsIntegerHashSpreadUnderTheKeyedHash()
    {
        // (i << 32) | i: long.GetHashCode folds the halves together, so all of these hash to 0.
        var keys = Enumerable.Range(1, 10_000).Select(i => ((long)i << 32) | (uint)i).ToList();
        Assert.Single(keys.Select(k => k.GetHashCode()).Distinct());
        Assert.True(keys.Select(k => PlainKeyComparer.Ordinal.GetHashCode(k)).Distinct().Count() > 9_900);
    }

    [Fact]
    public void ATaskWithMoreValuesThanTheBoundIsMalformed_BeforeAnyOfThemIsKept()
    {
        var limits = new PlainDataLimits { MaxElements = 1000 };
        var map = Enumerable.Range(0, 600).ToDictionary(i => (object)(long)i, i => (object?)i);
        var task = TaskEncoder.EncodePython("m:flood", new object[] { map }, null, 0);
        var error = Assert.Throws<MalformedTaskException>(() => TaskDecoder.Decode(task, limits));
        Assert.Contains("more than 1000 values", error.Message);
        Assert.Equal("m:flood", TaskDecoder.ReadName(task, limits)); // the name alone still reads, without the arguments
    }
}
