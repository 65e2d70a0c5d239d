using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Protocol;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

[Collection("redis")]
public class QueueTests
{
    private readonly RedisFixture _redis;

    public QueueTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public void Keys_AreTheProtocolNames()
    {
        var keys = new QueueKeys("default");
        Assert.Equal(("default", "default_noti", "default_processing"), (keys.Tasks, keys.Tokens, keys.Processing));
        Assert.Equal("", keys.HashTag);
        Assert.Equal("{jobs}", new QueueKeys("{jobs}").HashTag);
    }

    [Fact]
    public void ARedisOf6OrLaterTakesFractionalTimeouts_SoIdleWorkersCanJitterTheirWaits()
    {
        Assert.True(_redis.Connection.TakesFractionalTimeouts);
    }

    [Theory]
    [InlineData("jobs_noti")]
    [InlineData("jobs_processing")]
    [InlineData("jobs_inflight")]
    [InlineData("jobs_workers")]
    [InlineData("jobs_control")]
    [InlineData("")]
    [InlineData("  ")]
    public void QueueNames_ThatWouldShareAnotherQueuesKeysOrAreBlank_AreRefusedWithTheReason(string name)
    {
        var error = Assert.Throws<System.ArgumentException>(() => new DelayedQueue(_redis.Connection, name));
        Assert.Contains(name.Trim().Length == 0 ? "not empty or blank" : "would share keys", error.Message);
        Assert.Null(Record.Exception(() => new QueueKeys("jobs_notify")));
    }

    [Fact]
    public void WorkerIds_Are32HexCharactersAfterTheHashTag()
    {
        Assert.Matches("^[0-9a-f]{32}$", WorkerIds.New());
        Assert.Matches("^\\{jobs\\}[0-9a-f]{32}$", WorkerIds.New("{jobs}"));
        Assert.NotEqual(WorkerIds.New(), WorkerIds.New());
    }

    [Fact]
    public async Task Enqueue_AppendsTheExactBytesAndOneTokenOfOne()
    {
        var queue = _redis.NewQueue();
        var first = TaskEncoder.EncodePython("app.tasks:add", new object[] { 1, 2 }, null, 0);
        var second = TaskEncoder.EncodeGo("main.Add", new object?[] { 1, 2 });
        await queue.EnqueueAsync(first);
        await queue.EnqueueAsync(second);
        var tasks = await _redis.Db.ListRangeAsync(queue.Keys.Tasks);
        Assert.Equal(new[] { first, second }, tasks.Select(t => (byte[])t!).ToArray());
        var tokens = await _redis.Db.ListRangeAsync(queue.Keys.Tokens);
        Assert.Equal(new[] { "1", "1" }, tokens.Select(t => (string)t!).ToArray());
        Assert.Equal(2, await queue.GetLengthAsync());
    }

    [Fact]
    public async Task EnqueueBatch_PushesAllTasksInOrderWithOneTokenEach()
    {
        var queue = _redis.NewQueue();
        var batch = Enumerable.Range(0, 2500).Select(i => TaskEncoder.EncodePython("m:f", new object[] { i }, null, 0)).ToList();
        await queue.EnqueueAsync(batch);
        Assert.Equal(2500, await _redis.Db.ListLengthAsync(queue.Keys.Tasks));
        Assert.Equal(2500, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(batch[1234], (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, 1234))!);
    }

    [Fact]
    public async Task Clear_DeletesOnlyTheQueueKeys()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", null, null, 0));
        await _redis.Db.HashSetAsync(queue.Keys.Processing, "w", "t");
        await _redis.Db.HashSetAsync(queue.Keys.InFlight, "w", "1:1");
        await _redis.Db.StringSetAsync("", "keep");
        await _redis.Db.StringSetAsync("w", "1");
        await _redis.Db.HashSetAsync(queue.Keys.Workers, "w", "x");
        await _redis.Db.HashSetAsync(queue.Keys.Control, "w", "stop");
        await _redis.Db.ListRightPushAsync(queue.Keys.Waking, "1");
        await queue.ClearAsync();
        foreach (var key in queue.Keys.All.Append(queue.Keys.Waking))
            Assert.False(await _redis.Db.KeyExistsAsync(key));
        Assert.True(await _redis.Db.KeyExistsAsync(""));
        Assert.True(await _redis.Db.KeyExistsAsync("w"));
        await _redis.Db.KeyDeleteAsync(new RedisKey[] { "", "w" });
    }

    [Fact]
    public async Task Clear_UnderAnOperatorAccountFromBeforeTheWakingList_StillClearsTheRest()
    {
        var queue = _redis.NewQueue();
        // Every key of the queue but the waking list, as the example ACL file's operator had it before that list existed.
        var keys = queue.Keys.All.Append(queue.Keys.Unique).Select(k => "~" + k);
        await _redis.Db.ExecuteAsync("ACL", new object[] { "SETUSER", "oldoperator", "reset", "on", ">pw" }.Concat(keys).Append("+@all").ToArray());
        using var old = await DelayedConnection.ConnectAsync(_redis.Server.Configuration + ",user=oldoperator,password=pw");
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:f", null, null, 0));
        await _redis.Db.ListRightPushAsync(queue.Keys.Waking, "1");
        await new DelayedQueue(old, queue.Name).ClearAsync();
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Tokens));
        Assert.True(await _redis.Db.KeyExistsAsync(queue.Keys.Waking)); // out of its reach, and no error for it
        await _redis.Db.KeyDeleteAsync(queue.Keys.Waking);
    }

    [Fact]
    public void DequeueTimeout_IsSentAsAnIntegerWhenWhole()
    {
        Assert.Equal("1", DelayedQueue.FormatSeconds(System.TimeSpan.FromSeconds(1)));
        Assert.Equal("0.1", DelayedQueue.FormatSeconds(System.TimeSpan.FromMilliseconds(100)));
        Assert.Equal("2.5", DelayedQueue.FormatSeconds(System.TimeSpan.FromMilliseconds(2500)));
        Assert.Throws<System.ArgumentOutOfRangeException>(() => DelayedQueue.FormatSeconds(System.TimeSpan.Zero));
    }

    [Fact]
    public async Task Claim_AfterALostReplyHandsBackTheTaskItClaimed_EvenWithTheQueueEmpty()
    {
        var queue = _redis.NewQueue();
        var lost = TaskEncoder.EncodePython("m:lost", null, null, 0);
        await queue.EnqueueAsync(lost);
        await Live("w2");
        Assert.Equal(lost, (await queue.FinishAndClaimAsync("w2", ClaimMode.TakeToken, "1:0", null, null)).Task);
        // Its reply never came: the queue is empty now, and the task is still the worker's to run.
        Assert.False((await queue.FinishAndClaimAsync("w2", ClaimMode.TakeToken, "2:0", null, null)).Claimed);
        Assert.Equal(lost, (await queue.FinishAndClaimAsync("w2", ClaimMode.TakeToken, "3:0", null, replyLost: true)).Task);
        Assert.Equal(lost, (await queue.FinishAndClaimAsync("w2", ClaimMode.TokenTaken, "4:0", null, replyLost: true)).Task);
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens)); // the token taken was given back
        Assert.Equal("4:0", (string?)await _redis.Db.HashGetAsync(queue.Keys.InFlight, "w2"));
    }

    [Fact]
    public async Task Claim_HandsBackATaskAlreadyHeldInsteadOfOverwritingIt()
    {
        // A claim whose reply was lost leaves a task recorded under the id; a next claim that does not know it was lost
        // must return that task, not overwrite it with another (which would be lost).
        var queue = _redis.NewQueue();
        var lost = TaskEncoder.EncodePython("m:lost", null, null, 0);
        var next = TaskEncoder.EncodePython("m:next", null, null, 0);
        await queue.EnqueueAsync(lost);
        await queue.EnqueueAsync(next);
        await Live("w1");
        Assert.Equal(lost, (await queue.FinishAndClaimAsync("w1", ClaimMode.TakeToken, "1:0", null, null)).Task);
        Assert.Equal(lost, (await queue.FinishAndClaimAsync("w1", ClaimMode.TakeToken, "2:0", null, null)).Task);
        Assert.Equal(1, await queue.GetLengthAsync());
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task Finish_ReleasesOnlyTheClaimItNames()
    {
        var queue = _redis.NewQueue();
        var task = TaskEncoder.EncodePython("m:f", null, null, 0);
        await queue.EnqueueAsync(task);
        await Live("w1");
        await queue.FinishAndClaimAsync("w1", ClaimMode.TakeToken, "7:0", null, null);
        // A stale or repeated finish (wrong stamp) neither releases nor re-enqueues.
        await queue.FinishAndClaimAsync("w1", ClaimMode.None, "", "6:0", task);
        Assert.Equal(task, (byte[])(await _redis.Db.HashGetAsync(queue.Keys.Processing, "w1"))!);
        Assert.Equal(0, await queue.GetLengthAsync());
        await queue.FinishAndClaimAsync("w1", ClaimMode.None, "", "7:0", null);
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.InFlight));
    }

    [Fact]
    public async Task Claim_WithAnEmptyListChangesNothing()
    {
        var queue = _redis.NewQueue();
        await _redis.Db.ListRightPushAsync(queue.Keys.Tokens, "1");
        await Live("w1");
        Assert.Null((await queue.FinishAndClaimAsync("w1", ClaimMode.TakeToken, "1:0", null, null)).Task);
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Processing));
    }

    [Fact]
    public async Task Claim_WithoutALivenessKeyTakesNothingAndKeepsTheToken_ButStillFinishes()
    {
        var queue = _redis.NewQueue();
        var held = TaskEncoder.EncodePython("m:held", null, null, 0);
        var next = TaskEncoder.EncodePython("m:next", null, null, 0);
        await queue.EnqueueAsync(held);
        await queue.EnqueueAsync(next);
        await Live("w9");
        Assert.Equal(held, (await queue.FinishAndClaimAsync("w9", ClaimMode.TakeToken, "1:0", null, null)).Task);
        await _redis.Db.KeyDeleteAsync("w9"); // expired while the worker was paused

        // The finish still happens (the task is released); the claim does not, and the token stays.
        var reply = await queue.FinishAndClaimAsync("w9", ClaimMode.TakeToken, "2:0", "1:0", null);
        Assert.True(reply.Unregistered);
        Assert.Null(reply.Task);
        Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.Processing, "w9"));
        Assert.Equal(1, await queue.GetLengthAsync());
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));

        // A token already taken by BLPOP is put back.
        await _redis.Db.ListLeftPopAsync(queue.Keys.Tokens);
        Assert.True((await queue.FinishAndClaimAsync("w9", ClaimMode.TokenTaken, "3:0", null, null)).Unregistered);
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(next, (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, 0))!);
    }

    [Theory]
    [InlineData("finish only")]
    [InlineData("stop requested")]
    [InlineData("liveness key gone")]
    [InlineData("queue paused")]
    [InlineData("no token")]
    [InlineData("token taken, no task")]
    [InlineData("last reply lost")]
    public async Task AFinishedTaskLeavesNothingUnderTheWorker_WhateverTheClaimAfterItAnswers(string answer)
    {
        // The finish leaves the held task's entries for the claim to overwrite; every answer without a task must delete
        // them, or a sweep would put the finished task back (and a lost-reply claim hand it back) to run twice.
        var queue = _redis.NewQueue();
        var done = TaskEncoder.EncodePython("m:done", null, null, 0);
        await queue.EnqueueAsync(done);
        await Live("w5");
        Assert.Equal(done, (await queue.FinishAndClaimAsync("w5", ClaimMode.TakeToken, "1:0", null, null)).Task);
        var mode = ClaimMode.TakeToken;
        switch (answer)
        {
            case "finish only": mode = ClaimMode.None; break;
            case "stop requested": await _redis.Db.HashSetAsync(queue.Keys.Control, "w5", "stop"); break;
            case "liveness key gone": await _redis.Db.KeyDeleteAsync("w5"); break;
            case "queue paused": await queue.PauseAsync("test"); break;
            case "token taken, no task": mode = ClaimMode.TokenTaken; break;
        }
        var reply = await queue.FinishAndClaimAsync("w5", mode, "2:0", Finish.Release("1:0"), replyLost: answer == "last reply lost");
        Assert.Null(reply.Task);
        Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.Processing, "w5"), "the finished task is still recorded as held");
        Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.InFlight, "w5"), "the finished claim's stamp is still recorded");
        Assert.Equal(answer is "stop requested" or "liveness key gone" or "queue paused", reply.StopRequested || reply.Unregistered || reply.Paused);
    }

    [Fact]
    public async Task AFinishFollowedByAClaimRecordsOnlyTheNewTask_UnderItsNewStamp()
    {
        var queue = _redis.NewQueue();
        var first = TaskEncoder.EncodePython("m:first", null, null, 0);
        var second = TaskEncoder.EncodePython("m:second", null, null, 0);
        await queue.EnqueueAsync(new[] { first, second });
        await Live("w6");
        await queue.FinishAndClaimAsync("w6", ClaimMode.TakeToken, "1:0", null, null);
        Assert.Equal(second, (await queue.FinishAndClaimAsync("w6", ClaimMode.TakeToken, "2:0", "1:0", null)).Task);
        Assert.Equal(second, (byte[]?)await _redis.Db.HashGetAsync(queue.Keys.Processing, "w6"));
        Assert.Equal("2:0", (string?)await _redis.Db.HashGetAsync(queue.Keys.InFlight, "w6"));
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    /// <summary>The liveness key a registered worker keeps.</summary>
    private Task<bool> Live(string workerId) => _redis.Db.StringSetAsync(workerId, "1", System.TimeSpan.FromSeconds(60));
}
