using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>The sweep's cases, with the peers' defects avoided (docs/protocol.md, Where this module departs): the recovered count apart from the token repair, any deficit in one pass, a key of another type no error.</summary>
[Collection("redis")]
public class SweeperTests
{
    private readonly RedisFixture _redis;

    public SweeperTests(RedisFixture redis) => _redis = redis;

    private async Task Push(string key, params string[] values) =>
        await _redis.Db.ListRightPushAsync(key, values.Select(v => (RedisValue)v).ToArray());

    private async Task<string[]> List(string key) => (await _redis.Db.ListRangeAsync(key)).Select(v => (string)v!).ToArray();

    [Fact]
    public async Task SurplusTokensAreTrimmed()
    {
        var queue = _redis.NewQueue();
        await Push(queue.Keys.Tasks, "a", "b");
        await Push(queue.Keys.Tokens, "1", "1", "1", "1", "1");
        var result = await queue.SweepAsync();
        Assert.Equal((0L, -3L), (result.Recovered, result.TokenAdjustment));
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task TasksOfDeadWorkersGoBackAndLiveWorkersKeepTheirs()
    {
        var queue = _redis.NewQueue();
        await Push(queue.Keys.Tasks, "a", "b");
        await Push(queue.Keys.Tokens, "1", "1", "1", "1", "1");
        var alive = queue.Name + "-alive";
        await _redis.Db.HashSetAsync(queue.Keys.Processing, new[] { new HashEntry(queue.Name + "-w1", "T1"), new HashEntry(queue.Name + "-w2", "T2"), new HashEntry(alive, "T3") });
        await _redis.Db.StringSetAsync(alive, ""); // any value, even empty, is alive
        var result = await queue.SweepAsync();
        Assert.Equal((2L, -1L), (result.Recovered, result.TokenAdjustment));
        Assert.Equal(new[] { "a", "b", "T1", "T2" }, await List(queue.Keys.Tasks));
        Assert.Equal(4, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal("T3", (string)(await _redis.Db.HashGetAsync(queue.Keys.Processing, alive))!);
        Assert.Equal(1, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
    }

    [Fact]
    public async Task AMissingTokenIsAdded()
    {
        var queue = _redis.NewQueue();
        await Push(queue.Keys.Tasks, "a", "b", "c");
        await Push(queue.Keys.Tokens, "1");
        await _redis.Db.HashSetAsync(queue.Keys.Processing, queue.Name + "-dead", "T9");
        var result = await queue.SweepAsync();
        Assert.Equal((1L, 3L), (result.Recovered, result.TokenAdjustment));
        Assert.Equal(new[] { "a", "b", "c", "T9" }, await List(queue.Keys.Tasks));
        Assert.Equal(new[] { "1", "1", "1", "1" }, await List(queue.Keys.Tokens));
    }

    [Fact]
    public async Task ADeficitOfTenThousandIsRepairedInOnePass()
    {
        var queue = _redis.NewQueue();
        await _redis.Db.ListRightPushAsync(queue.Keys.Tasks, Enumerable.Range(0, 10_000).Select(i => (RedisValue)i).ToArray());
        await _redis.Db.HashSetAsync(queue.Keys.Processing, queue.Name + "-deadworker", "L");
        var result = await queue.SweepAsync();
        Assert.Equal((1L, 10_001L), (result.Recovered, result.TokenAdjustment));
        Assert.Equal(10_001, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task AKeyOfAnotherTypeNamedLikeAWorkerDoesNotAbortThePass()
    {
        var queue = _redis.NewQueue();
        var listKey = queue.Name + "-listkey";
        await _redis.Db.HashSetAsync(queue.Keys.Processing, new[] { new HashEntry(queue.Name + "-deadA", "TA"), new HashEntry(listKey, "TB"), new HashEntry(queue.Name + "-deadC", "TC") });
        await Push(listKey, "x");
        var result = await queue.SweepAsync();
        Assert.Equal((2L, 2L), (result.Recovered, result.TokenAdjustment));
        Assert.Equal(new[] { "TA", "TC" }, await List(queue.Keys.Tasks));
        Assert.Equal(new[] { listKey }, (await _redis.Db.HashKeysAsync(queue.Keys.Processing)).Select(k => (string)k!));
    }

    [Fact]
    public async Task ASecondPassChangesNothing()
    {
        var queue = _redis.NewQueue();
        await Push(queue.Keys.Tasks, "a");
        await _redis.Db.HashSetAsync(queue.Keys.Processing, queue.Name + "-dead", "T");
        await queue.SweepAsync();
        var second = await queue.SweepAsync();
        Assert.Equal((0L, 0L), (second.Recovered, second.TokenAdjustment));
        Assert.Equal(new[] { "a", "T" }, await List(queue.Keys.Tasks));
    }

    [Fact]
    public async Task StaleInFlightStampsAreRemoved()
    {
        var queue = _redis.NewQueue();
        await _redis.Db.HashSetAsync(queue.Keys.InFlight, "gone", "1:1");
        await queue.SweepAsync();
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.InFlight));
    }
}
