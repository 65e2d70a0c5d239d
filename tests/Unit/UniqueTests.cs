using System;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Worker;
using Delayed.Core.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>Unique tasks: a second enqueue of the same key within the window is skipped, atomically.</summary>
[Collection("redis")]
public class UniqueTests
{
    private static readonly byte[] Report = TaskEncoder.EncodePython("m:report", new object[] { "daily" }, null, 0);
    private readonly RedisFixture _redis;

    public UniqueTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task EightEnqueuersOfTheSameTaskAtOnceEnqueueItOnce()
    {
        var probe = _redis.NewQueue();
        var connections = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => DelayedConnection.ConnectAsync(_redis.Server.Configuration)));
        try
        {
            var results = await Task.WhenAll(connections.Select(c => Task.Run(() =>
                new DelayedQueue(c, probe.Name).EnqueueUniqueAsync(new[] { new UniqueTask(Report, TimeSpan.FromMinutes(5)) }))));
            Assert.Equal(1, results.Count(r => r[0]));
            Assert.Equal(1, await probe.GetLengthAsync());
            Assert.Equal(1, await _redis.Db.ListLengthAsync(probe.Keys.Tokens));
        }
        finally
        {
            foreach (var connection in connections) connection.Dispose();
        }
    }

    [Fact]
    public async Task EightTrackingEnqueuersOfOneKeyAtOnceEnqueueOneTask_AndTheSevenOthersAreToldItsId()
    {
        var probe = _redis.NewQueue();
        var connections = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => DelayedConnection.ConnectAsync(_redis.Server.Configuration)));
        try
        {
            var tasks = Enumerable.Range(0, 8).Select(_ => new UniqueTask(Report, TimeSpan.FromMinutes(5), key: "report", keepFor: TimeSpan.FromHours(1))).ToList();
            var outcomes = await Task.WhenAll(connections.Select((c, i) => Task.Run(() =>
                new DelayedQueue(c, probe.Name).EnqueueUniqueWithOutcomeAsync(new[] { tasks[i] }))));
            var winner = Assert.Single(Enumerable.Range(0, 8), i => outcomes[i][0].Enqueued);
            Assert.All(Enumerable.Range(0, 8).Where(i => i != winner), i => Assert.Equal(tasks[winner].TrackingId, outcomes[i][0].ExistingTrackingId));
            Assert.Equal(1, await probe.GetLengthAsync());
            var record = (await probe.GetTrackedAsync(new[] { tasks[winner].TrackingId! }))[0];
            Assert.Equal(TrackedState.Queued, record.State);

            // A duplicate of an untracked task has no id to give.
            var untracked = await probe.EnqueueUniqueWithOutcomeAsync(new[] { new UniqueTask(Report, TimeSpan.FromMinutes(5)) });
            Assert.True(untracked[0].Enqueued);
            var again = await probe.EnqueueUniqueWithOutcomeAsync(new[] { new UniqueTask(Report, TimeSpan.FromMinutes(5), keepFor: TimeSpan.FromHours(1)) });
            Assert.False(again[0].Enqueued);
            Assert.Null(again[0].ExistingTrackingId);
        }
        finally
        {
            foreach (var connection in connections) connection.Dispose();
        }
    }

    [Fact]
    public async Task ATrackedUniqueTaskRunsUnderItsRecord_AndItsWindowsIdGoesWithTheWindow()
    {
        var queue = _redis.NewQueue();
        var scheduled = new UniqueTask(Report, TimeSpan.FromMilliseconds(200), key: "later", delay: TimeSpan.FromHours(1), keepFor: TimeSpan.FromHours(1));
        var now = new UniqueTask(Report, TimeSpan.FromMilliseconds(200), key: "now", keepFor: TimeSpan.FromMilliseconds(500));
        Assert.All(await queue.EnqueueUniqueWithOutcomeAsync(new[] { scheduled, now }), o => Assert.True(o.Enqueued));
        Assert.Equal(scheduled.TrackingId, Assert.Single(await queue.GetScheduledAsync()).Id);
        Assert.Equal(TrackedState.Scheduled, (await queue.GetTrackedAsync(new[] { scheduled.TrackingId! }))[0].State);
        var registry = new DelegateRegistry().Add("m:report", c => { c.Output = System.Text.Encoding.UTF8.GetBytes(c.TrackingId!); });
        await new DelayedWorker(queue, registry, new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        var done = (await queue.GetTrackedAsync(new[] { now.TrackingId! }, withData: true))[0];
        Assert.Equal(TrackedState.Completed, done.State);
        Assert.Equal(now.TrackingId, System.Text.Encoding.UTF8.GetString(done.Output!));
        Assert.True(await _redis.Db.HashExistsAsync(queue.Keys.Tracked, "uk:now"));
        // The window's id goes with the record, at the sweep after its time.
        await Eventually.True(async () =>
        {
            await queue.SweepAsync();
            return !await _redis.Db.HashExistsAsync(queue.Keys.Tracked, "uk:now");
        }, "the window's id to go with the record");
        Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.Tracked, "v" + now.TrackingId));
    }

    [Fact]
    public async Task TheKeyDecides_NotTheBytes_AndTheWindowEnds()
    {
        var queue = _redis.NewQueue();
        var other = TaskEncoder.EncodePython("m:report", new object[] { "weekly" }, null, 0);
        var sent = await queue.EnqueueUniqueAsync(new[]
        {
            new UniqueTask(Report, TimeSpan.FromMilliseconds(300), key: "report"),
            new UniqueTask(other, TimeSpan.FromMilliseconds(300), key: "report"), // other bytes, same key: skipped
            new UniqueTask(Report, TimeSpan.FromMinutes(5)),                      // same bytes, keyed by them: a key of its own
        });
        Assert.Equal(new[] { true, false, true }, sent);
        Assert.True((await _redis.Db.KeyTimeToLiveAsync(queue.Keys.Unique)) > TimeSpan.FromMinutes(4)); // expires by itself
        await Eventually.True(async () => (await queue.EnqueueUniqueAsync(new[] { new UniqueTask(other, TimeSpan.FromMinutes(1), key: "report") }))[0],
            "the key to be free once its window ended");
        Assert.Equal(3, await queue.GetLengthAsync());
    }

    [Fact]
    public async Task AScheduledTaskCanBeUniqueToo_AndClearEndsTheWindows()
    {
        var queue = _redis.NewQueue();
        var first = await queue.EnqueueUniqueAsync(new[] { new UniqueTask(Report, TimeSpan.FromMinutes(5), delay: TimeSpan.FromMinutes(1)) });
        var second = await queue.EnqueueUniqueAsync(new[] { new UniqueTask(Report, TimeSpan.FromMinutes(5), at: DateTimeOffset.UtcNow.AddMinutes(2)) });
        Assert.Equal((true, false), (first[0], second[0]));
        Assert.Equal(Report, Assert.Single(await queue.GetScheduledAsync()).Raw);
        await queue.ClearAsync();
        Assert.True((await queue.EnqueueUniqueAsync(new[] { new UniqueTask(Report, TimeSpan.FromMinutes(5)) }))[0]);
    }

    [Fact]
    public async Task AScheduledUniqueTaskSaysItsEntryAndWhenItIsDue_SoItCanBeCancelled_ASkippedOneHasNone()
    {
        var queue = _redis.NewQueue();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(3).ToUnixTimeMilliseconds());
        var outcomes = await queue.EnqueueUniqueWithOutcomeAsync(new[]
        {
            new UniqueTask(Report, TimeSpan.FromMinutes(5), delay: TimeSpan.FromHours(1)),
            new UniqueTask(Report, TimeSpan.FromMinutes(5), delay: TimeSpan.FromHours(1)), // the duplicate
            new UniqueTask(Report, TimeSpan.FromMinutes(5), key: "other", at: at),
            new UniqueTask(Report, TimeSpan.FromMinutes(5), key: "now"),
        });
        Assert.Equal(new[] { true, false, true, true }, outcomes.Select(o => o.Enqueued));
        Assert.Null(outcomes[1].Scheduled);
        Assert.Null(outcomes[3].Scheduled); // to run now: no schedule entry
        var stored = (await queue.GetScheduledAsync()).ToDictionary(e => e.Id);
        foreach (var entry in new[] { outcomes[0].Scheduled!, outcomes[2].Scheduled! })
        {
            Assert.Equal(stored[entry.Id].DueAt, entry.DueAt);
            Assert.Equal(Report, entry.Raw);
        }
        Assert.Equal(at, outcomes[2].Scheduled!.DueAt);
        var server = (StackExchange.Redis.RedisResult[])(await _redis.Db.ExecuteAsync("TIME"))!;
        var serverNow = DateTimeOffset.FromUnixTimeSeconds((long)server[0]);
        Assert.InRange(outcomes[0].Scheduled!.DueAt, serverNow.AddMinutes(59), serverNow.AddMinutes(61));
        Assert.Equal(AdminOutcome.Done, await queue.RemoveScheduledAsync(outcomes[0].Scheduled!.Id, outcomes[0].Scheduled!.Raw));
        Assert.Equal(outcomes[2].Scheduled!.Id, Assert.Single(await queue.GetScheduledAsync()).Id);
    }
}
