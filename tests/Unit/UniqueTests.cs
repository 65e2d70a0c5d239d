using System;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
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
}
